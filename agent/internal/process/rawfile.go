package process

import (
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"vessel.dev/agent/internal/rawio"
)

// rawFile reads and writes a non-blocking (poller-registered) file with raw syscalls:
// the poller still waits for readiness, but a read or write that has data to move does
// not go through the runtime's blocking-syscall path. Under emulation one pipe copy
// (copyBufSize bytes) takes long enough that sysmon hands the only P to another thread
// on every copy (a futex wake and a context switch each time, and sysmon polling at its
// fastest), which cost more guest CPU than the copies. Errors look like os.File's:
// *os.PathError, with os.ErrClosed once the file was closed.
type rawFile struct {
	f  *os.File
	rc syscall.RawConn
}

// newRawFile returns a rawFile for f, or f itself when f is not non-blocking.
func newRawFile(f *os.File) io.ReadWriter {
	rc, ok := rawio.NonBlockingConn(f)
	if !ok {
		return f
	}
	return &rawFile{f: f, rc: rc}
}

func (r *rawFile) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	ptr, size := rawio.Buf(p)
	n, errno, err := rawio.Read(r.rc, unix.SYS_READ, ptr, size)
	switch {
	case err != nil:
		return 0, &os.PathError{Op: "read", Path: r.f.Name(), Err: os.ErrClosed}
	case errno != 0:
		return 0, &os.PathError{Op: "read", Path: r.f.Name(), Err: errno}
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// Write writes all of p.
func (r *rawFile) Write(p []byte) (int, error) {
	total := 0
	for total < len(p) {
		ptr, size := rawio.Buf(p[total:])
		n, errno, err := rawio.Write(r.rc, unix.SYS_WRITE, ptr, size)
		switch {
		case err != nil:
			return total, &os.PathError{Op: "write", Path: r.f.Name(), Err: os.ErrClosed}
		case errno != 0:
			return total, &os.PathError{Op: "write", Path: r.f.Name(), Err: errno}
		case n == 0:
			return total, &os.PathError{Op: "write", Path: r.f.Name(), Err: io.ErrShortWrite}
		}
		total += n
	}
	return total, nil
}
