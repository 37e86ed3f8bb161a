// Package waitfile waits for a file to appear, with inotify: a process announces a state
// by writing a file (runc's --pid-file once the container runs), and the waiter learns it
// at once instead of polling.
//
// Wait watches the file's directory first and then looks for the file, so an appearance
// between the two is never missed. The writer must make the file whole at once: write it
// elsewhere in the directory and rename it into place (IN_MOVED_TO), as runc writes its
// pid file; a file that already exists is read at once. Wait returns its first maxBytes
// bytes.
// It ends with ErrStopped when stop is closed first, with context's error when ctx ends,
// and with the stat/open error (e.g. fs.ErrNotExist for a missing directory) otherwise.
package waitfile

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ErrStopped is returned when the stop channel closed before the file appeared.
var ErrStopped = errors.New("stopped before the file appeared")

const watchMask = unix.IN_MOVED_TO | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF

// Wait blocks until path exists and returns up to maxBytes of it (see the package doc).
func Wait(ctx context.Context, path string, stop <-chan struct{}, maxBytes int) ([]byte, error) {
	dir, name := filepath.Split(filepath.Clean(path))
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, os.NewSyscallError("inotify_init1", err)
	}
	f := os.NewFile(uintptr(fd), "inotify") // non-blocking: reads park in the runtime's poller
	defer f.Close()
	if _, err := unix.InotifyAddWatch(fd, dir, watchMask); err != nil {
		return nil, &os.PathError{Op: "inotify_add_watch", Path: dir, Err: err}
	}
	if b, err := read(path, maxBytes); !errors.Is(err, os.ErrNotExist) {
		return b, err
	}
	events := make(chan error, 1)
	go func() { events <- awaitName(f, name) }()
	select {
	case err := <-events:
		if err != nil {
			return nil, err
		}
		return read(path, maxBytes)
	case <-stop:
		return nil, ErrStopped
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// awaitName reads inotify events until one names `name` (nil) or the watched directory
// itself went away or the descriptor failed (an error).
func awaitName(f *os.File, name string) error {
	buf := make([]byte, 64*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
	for {
		n, err := f.Read(buf)
		if err != nil {
			return err
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			start := off + unix.SizeofInotifyEvent
			end := start + int(ev.Len)
			if end > n {
				break
			}
			if ev.Mask&(unix.IN_DELETE_SELF|unix.IN_MOVE_SELF) != 0 {
				return &os.PathError{Op: "wait", Path: name, Err: os.ErrNotExist}
			}
			if ev.Len > 0 && cString(buf[start:end]) == name {
				return nil
			}
			off = end
		}
	}
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

func read(path string, maxBytes int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, int64(maxBytes)))
}
