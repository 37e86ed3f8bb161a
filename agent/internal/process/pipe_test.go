package process

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestNewStreamPipeHasTheLargerCapacityAndStaysNonBlocking(t *testing.T) {
	r, w, err := newStreamPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	rc, err := w.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var size, flags int
	var gerr, ferr error
	if err := rc.Control(func(fd uintptr) {
		size, gerr = unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0)
		flags, ferr = unix.FcntlInt(fd, unix.F_GETFL, 0)
	}); err != nil {
		t.Fatal(err)
	}
	if gerr != nil || ferr != nil {
		t.Fatalf("fcntl: %v %v", gerr, ferr)
	}
	// streamPipeSize is within fs.pipe-max-size's default (1 MiB), so no privilege is needed.
	if size != streamPipeSize {
		t.Fatalf("pipe capacity %d, want %d", size, streamPipeSize)
	}
	if flags&unix.O_NONBLOCK == 0 {
		t.Fatal("the write end left the runtime poller (blocking mode)")
	}
	// The raw-syscall copy path depends on it too.
	if _, ok := newRawFile(w).(*rawFile); !ok {
		t.Fatal("newRawFile fell back to the plain file")
	}
}
