package transport

import (
	"io"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"vessel.dev/agent/internal/rawio"
)

// portWriteMax and page-sized reads are the virtio_console buffer sizes a port read or write moves at most: the
// driver queues one page per host→guest buffer and copies at most 32 KiB into one
// guest→host buffer per write.
const portWriteMax = 32 << 10

// portReadIovs is how many host→guest buffers one readv may drain.
const portReadIovs = 32

// PortConn is a virtio-serial port (or any non-blocking file) read with readv into a
// buffer of page-sized segments and written with writev in segments of at most 32 KiB,
// each through the runtime poller with raw syscalls. Why: virtio_console returns at most
// one page per read(2) and takes at most 32 KiB per write(2), and under emulation every
// syscall, and every scheduler hand-off that Go's blocking-syscall path invites on a long
// copy, costs far more than the bytes; readv/writev loop over the driver's buffers in one
// syscall. The fd must be non-blocking (registered with the poller): NewPortConn returns
// f unchanged otherwise. Read is for one reader, Write for one writer, concurrently.
type PortConn struct {
	f  *os.File
	rc syscall.RawConn

	rbuf       []byte
	rpos, rend int
	riov       []unix.Iovec
	wiov       []unix.Iovec
}

// NewPortConn wraps f, or returns f itself when it is not in non-blocking mode.
func NewPortConn(f *os.File) io.ReadWriteCloser {
	rc, ok := rawio.NonBlockingConn(f)
	if !ok {
		return f
	}
	seg := os.Getpagesize()
	c := &PortConn{f: f, rc: rc, rbuf: make([]byte, seg*portReadIovs), riov: make([]unix.Iovec, portReadIovs)}
	for i := range c.riov {
		c.riov[i].Base = &c.rbuf[i*seg]
		c.riov[i].SetLen(seg)
	}
	return c
}

// Read returns buffered bytes, or reads as many whole driver buffers as are ready.
func (c *PortConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if c.rpos == c.rend {
		n, err := c.fill()
		if n == 0 {
			return 0, err
		}
	}
	n := copy(p, c.rbuf[c.rpos:c.rend])
	c.rpos += n
	return n, nil
}

func (c *PortConn) fill() (int, error) {
	c.rpos, c.rend = 0, 0
	n, errno, err := rawio.Read(c.rc, unix.SYS_READV, uintptr(unsafe.Pointer(&c.riov[0])), uintptr(len(c.riov)))
	if err != nil {
		return 0, err
	}
	if errno != 0 {
		return 0, &os.PathError{Op: "readv", Path: c.f.Name(), Err: errno}
	}
	if n == 0 {
		return 0, io.EOF
	}
	c.rend = n
	return n, nil
}

// Write writes all of p, in as few writev calls as the driver allows.
func (c *PortConn) Write(p []byte) (int, error) {
	total := 0
	for total < len(p) {
		n, err := c.writeOnce(p[total:])
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (c *PortConn) writeOnce(p []byte) (int, error) {
	c.wiov = c.wiov[:0]
	for off := 0; off < len(p) && len(c.wiov) < 1024; off += portWriteMax {
		end := min(off+portWriteMax, len(p))
		v := unix.Iovec{Base: &p[off]}
		v.SetLen(end - off)
		c.wiov = append(c.wiov, v)
	}
	n, errno, err := rawio.Write(c.rc, unix.SYS_WRITEV, uintptr(unsafe.Pointer(&c.wiov[0])), uintptr(len(c.wiov)))
	clear(c.wiov) // do not keep p reachable
	if err != nil {
		return 0, err
	}
	if errno != 0 {
		return 0, &os.PathError{Op: "writev", Path: c.f.Name(), Err: errno}
	}
	if n == 0 {
		return 0, io.ErrShortWrite
	}
	return n, nil
}

// Close closes the file; a blocked Read or Write returns.
func (c *PortConn) Close() error { return c.f.Close() }
