package process

import (
	"io"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawFile reads and writes a non-blocking (poller-registered) file with raw syscalls:
// the poller still waits for readiness, but a read or write that has data to move does
// not go through the runtime's blocking-syscall path. Under emulation a 32 KiB pipe copy
// takes long enough that sysmon hands the only P to another thread on every copy (a
// futex wake and a context switch each time, and sysmon polling at its fastest), which
// cost more guest CPU than the copies. Errors look like os.File's: *os.PathError, with
// os.ErrClosed once the file was closed.
type rawFile struct {
	f  *os.File
	rc syscall.RawConn
}

// newRawFile returns a rawFile for f, or f itself when f is not non-blocking (a raw
// syscall on a blocking fd would hold the P while it sleeps).
func newRawFile(f *os.File) io.ReadWriter {
	rc, err := f.SyscallConn()
	if err != nil {
		return f
	}
	nonblock := false
	if err := rc.Control(func(fd uintptr) {
		fl, err := unix.FcntlInt(fd, unix.F_GETFL, 0)
		nonblock = err == nil && fl&unix.O_NONBLOCK != 0
	}); err != nil || !nonblock {
		return f
	}
	return &rawFile{f: f, rc: rc}
}

// rawIO runs one read or write syscall on fd, retrying EINTR; ok is false on EAGAIN.
func rawIO(trap, fd uintptr, p []byte) (n int, errno unix.Errno, ok bool) {
	var ptr uintptr
	if len(p) > 0 {
		ptr = uintptr(unsafe.Pointer(&p[0]))
	}
	for {
		r, _, e := unix.RawSyscall(trap, fd, ptr, uintptr(len(p)))
		switch e {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return 0, 0, false
		case 0:
			return int(r), 0, true
		default:
			return 0, e, true
		}
	}
}

func (r *rawFile) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var errno unix.Errno
	err := r.rc.Read(func(fd uintptr) bool {
		var ok bool
		n, errno, ok = rawIO(unix.SYS_READ, fd, p)
		return ok
	})
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
		var n int
		var errno unix.Errno
		err := r.rc.Write(func(fd uintptr) bool {
			var ok bool
			n, errno, ok = rawIO(unix.SYS_WRITE, fd, p[total:])
			return ok
		})
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
