package process

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fakeSource is a StreamSource whose streams are socketpairs: the test holds the host
// end (a *net.UnixConn, with CloseWrite), Claim hands out the agent end.
type fakeSource struct {
	mu      sync.Mutex
	avail   map[string]io.ReadWriteCloser
	changed chan struct{}
}

func newFakeSource() *fakeSource {
	return &fakeSource{avail: map[string]io.ReadWriteCloser{}, changed: make(chan struct{})}
}

func (f *fakeSource) Claim(ctx context.Context, id string, wait time.Duration) (io.ReadWriteCloser, error) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		f.mu.Lock()
		if c, ok := f.avail[id]; ok {
			delete(f.avail, id)
			f.mu.Unlock()
			return c, nil
		}
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
			return nil, fmt.Errorf("stream %q: %w", id, context.DeadlineExceeded)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// addConn offers c as stream id.
func (f *fakeSource) addConn(id string, c io.ReadWriteCloser) {
	f.mu.Lock()
	f.avail[id] = c
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
}

// add creates a socketpair, offers one end as stream id and returns the host end.
func (f *fakeSource) add(t *testing.T, id string) *net.UnixConn {
	t.Helper()
	host, agent := socketPair(t)
	f.addConn(id, agent)
	t.Cleanup(func() { host.Close() })
	return host
}

func socketPair(t *testing.T) (*net.UnixConn, *net.UnixConn) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conv := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), "socketpair")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		return c.(*net.UnixConn)
	}
	return conv(fds[0]), conv(fds[1])
}
