// Package rawio runs read/write-style syscalls on non-blocking file descriptors through
// Go's poller (syscall.RawConn), without the blocking-syscall path: under emulation every
// slow syscall on that path hands the only scheduler slot to another thread.
package rawio

import (
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// NonBlockingConn returns f's RawConn when f's descriptor is in non-blocking mode. A raw
// syscall on a blocking descriptor would hold the scheduler slot while it sleeps, so
// callers fall back to f itself when ok is false.
func NonBlockingConn(f *os.File) (rc syscall.RawConn, ok bool) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, false
	}
	nonblock := false
	if err := rc.Control(func(fd uintptr) {
		fl, err := unix.FcntlInt(fd, unix.F_GETFL, 0)
		nonblock = err == nil && fl&unix.O_NONBLOCK != 0
	}); err != nil || !nonblock {
		return nil, false
	}
	return rc, true
}

// Syscall runs trap(fd, a1, a2) (read, write, readv, writev), retrying EINTR. ok is false
// on EAGAIN: the RawConn.Read/Write callback returns it so the poller waits.
func Syscall(trap, fd, a1, a2 uintptr) (n int, errno unix.Errno, ok bool) {
	for {
		r, _, e := unix.RawSyscall(trap, fd, a1, a2)
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

// Buf returns the (pointer, length) syscall arguments for p.
func Buf(p []byte) (uintptr, uintptr) {
	if len(p) == 0 {
		return 0, 0
	}
	return uintptr(unsafe.Pointer(&p[0])), uintptr(len(p))
}

// Read runs trap(fd, a1, a2) when fd is readable (waiting in the poller on EAGAIN). err is
// the RawConn's own error (e.g. the file was closed); errno is the syscall's.
func Read(rc syscall.RawConn, trap, a1, a2 uintptr) (n int, errno unix.Errno, err error) {
	err = rc.Read(func(fd uintptr) bool {
		var ok bool
		n, errno, ok = Syscall(trap, fd, a1, a2)
		return ok
	})
	return n, errno, err
}

// Write is Read for writability.
func Write(rc syscall.RawConn, trap, a1, a2 uintptr) (n int, errno unix.Errno, err error) {
	err = rc.Write(func(fd uintptr) bool {
		var ok bool
		n, errno, ok = Syscall(trap, fd, a1, a2)
		return ok
	})
	return n, errno, err
}
