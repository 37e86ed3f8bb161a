package transport

import (
	"encoding/binary"
	"io"
)

// CoalesceFrames returns rw with writes of yamux data frames joined: hashicorp/yamux
// writes each frame as a 12-byte header and then its body, and on a virtio-serial port
// every write is its own buffer and host notification, which under emulation costs far
// more than copying the body behind its header. Only a data-frame header that announces
// a body is held back (the body write always follows it in yamux's send loop); every
// other write passes straight through. Not safe for concurrent writers (yamux has one).
func CoalesceFrames(rw io.ReadWriteCloser) io.ReadWriteCloser {
	return &frameCoalescer{ReadWriteCloser: rw}
}

const (
	yamuxHeaderSize = 12
	yamuxTypeData   = 0
)

type frameCoalescer struct {
	io.ReadWriteCloser
	hdr     [yamuxHeaderSize]byte
	held    bool
	bodyLen uint32
	buf     []byte
}

func (c *frameCoalescer) Write(p []byte) (int, error) {
	if c.held {
		c.held = false
		if uint32(len(p)) != c.bodyLen {
			// Not the body we expected: send both as they are.
			if _, err := c.ReadWriteCloser.Write(c.hdr[:]); err != nil {
				return 0, err
			}
			return c.ReadWriteCloser.Write(p)
		}
		c.buf = append(append(c.buf[:0], c.hdr[:]...), p...)
		n, err := c.ReadWriteCloser.Write(c.buf)
		if n >= yamuxHeaderSize {
			n -= yamuxHeaderSize
		} else {
			n = 0
		}
		if cap(c.buf) > 1<<20 {
			c.buf = nil // do not keep an unusually large buffer around
		}
		return n, err
	}
	if len(p) == yamuxHeaderSize && p[0] == 0 && p[1] == yamuxTypeData {
		if length := binary.BigEndian.Uint32(p[8:]); length > 0 {
			copy(c.hdr[:], p)
			c.held = true
			c.bodyLen = length
			return len(p), nil
		}
	}
	return c.ReadWriteCloser.Write(p)
}
