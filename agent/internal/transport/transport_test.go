package transport

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func addPort(t *testing.T, dir, dev, name string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, dev), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, dev, "name"), []byte(name+"\n"), 0o444); err != nil {
		t.Fatal(err)
	}
}

func TestFindPort(t *testing.T) {
	dir := t.TempDir()
	addPort(t, dir, "vport0p1", "org.qemu.guest_agent.0")
	addPort(t, dir, "vport1p1", PortName)
	if err := os.MkdirAll(filepath.Join(dir, "vport2p1"), 0o755); err != nil { // no name file
		t.Fatal(err)
	}
	dev, err := FindPort(dir, PortName)
	if err != nil || dev != "vport1p1" {
		t.Fatalf("%q %v", dev, err)
	}
	if _, err := FindPort(dir, "other"); !errors.Is(err, ErrPortNotFound) {
		t.Fatalf("missing: %v", err)
	}
	if _, err := FindPort(filepath.Join(dir, "nope"), PortName); !errors.Is(err, ErrPortNotFound) {
		t.Fatalf("no class dir: %v", err)
	}
}

func TestWaitPort(t *testing.T) {
	dir := t.TempDir()
	if _, err := WaitPort(context.Background(), dir, PortName, 30*time.Millisecond); !errors.Is(err, ErrPortNotFound) {
		t.Fatalf("timeout: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		dev, err := WaitPort(context.Background(), dir, PortName, 10*time.Second)
		if err == nil && dev != "vport0p1" {
			err = errors.New("wrong dev " + dev)
		}
		done <- err
	}()
	addPort(t, dir, "vport0p1", PortName)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestVirtioSerialNextWaitsForHostAndReopens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vport0p1")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	opens, busy := 0, 1
	connectedAfter := 3
	probes := 0
	v := &VirtioSerial{
		Path: path,
		open: func(p string) (*os.File, error) {
			if busy > 0 {
				busy--
				return nil, unix.EBUSY
			}
			opens++
			return os.OpenFile(p, os.O_RDWR, 0)
		},
		hostConnected: func(f *os.File) (bool, error) {
			probes++
			return probes >= connectedAfter, nil
		},
	}
	c1, err := v.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if opens != 1 || probes != 3 {
		t.Fatalf("opens %d probes %d", opens, probes)
	}
	c1.Close()
	c2, err := v.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if opens != 2 {
		t.Fatalf("not reopened: opens %d", opens)
	}
	// Never connected: ctx ends the wait.
	v.hostConnected = func(*os.File) (bool, error) { return false, nil }
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := v.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want deadline, got %v", err)
	}
	v.Close()
}

func TestPollHostConnectedOnPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ok, err := pollHostConnected(r)
	if err != nil || !ok {
		t.Fatalf("open pipe: %v %v", ok, err)
	}
	w.Close() // writer gone: POLLHUP on the read end, like a disconnected host
	ok, err = pollHostConnected(r)
	if err != nil || ok {
		t.Fatalf("hung-up pipe: %v %v", ok, err)
	}
}

func TestListener(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "a.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	tr := Listener{L: l}
	go func() {
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Write([]byte("hi"))
			c.Close()
		}
	}()
	c, err := tr.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	if string(b) != "hi" {
		t.Fatalf("%q", b)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tr.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel: %v", err)
	}
}

func TestVsockWhereAvailable(t *testing.T) {
	v, err := ListenVsock(52000)
	if err != nil {
		t.Skipf("no vsock here: %v", err)
	}
	defer v.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := v.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want deadline, got %v", err)
	}
}
