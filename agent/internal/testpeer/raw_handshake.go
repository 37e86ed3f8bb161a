package testpeer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// maxRawIDLen bounds a raw stream id (and a handshake reply) in bytes.
const maxRawIDLen = 1024

var errBadIDLength = errors.New("invalid stream id length")

// readHandshakeString reads one uint32 big-endian length-prefixed string,
// refusing an empty one or one longer than maxRawIDLen before reading its body.
func readHandshakeString(r io.Reader) (string, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return "", err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || n > maxRawIDLen {
		return "", fmt.Errorf("%w: %d", errBadIDLength, n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", err
	}
	return string(buf), nil
}

// writeHandshakeString writes s with its uint32 big-endian length prefix in one write.
func writeHandshakeString(w io.Writer, s string) error {
	buf := make([]byte, 4+len(s))
	binary.BigEndian.PutUint32(buf, uint32(len(s)))
	copy(buf[4:], s)
	_, err := w.Write(buf)
	return err
}

// claimRawStream is the opening side of the handshake: send id, expect it echoed back.
// A different reply is the peer's refusal; it is returned as the error text.
func claimRawStream(rw io.ReadWriter, id string) error {
	if err := writeHandshakeString(rw, id); err != nil {
		return fmt.Errorf("send stream id: %w", err)
	}
	reply, err := readHandshakeString(rw)
	if err != nil {
		return fmt.Errorf("read handshake reply: %w", err)
	}
	if reply != id {
		return fmt.Errorf("stream %q refused: %s", id, reply)
	}
	return nil
}
