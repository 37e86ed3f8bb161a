// Package transport opens the byte pipe the host's yamux session runs on.
//
// Each Transport yields one io.ReadWriteCloser per host connection (Next); a new host
// connection means a new yamux session. Kinds:
//   - VirtioSerial: the virtio-serial port whose /sys/class/virtio-ports/*/name is
//     "vessel.agent", opened O_RDWR as /dev/<port>. Waits (bounded) for the port to
//     appear, since virtio_console may load just before. A port reads EOF and polls
//     POLLHUP while no host is connected, so Next waits for the host before returning.
//     After a session that read something ended, the device is reopened (virtio_console
//     drops what was left unread on open); a session that read nothing, or one handed over
//     by Detach (handover.go), leaves the port open for the next one, so no byte a later
//     host sends is dropped.
//   - Vsock: listen on AF_VSOCK PORT, one connection at a time.
//   - Listener: any net.Listener (unix sockets for running the agent on a host in tests).
package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// PortName is the virtio-serial port name the agent serves on.
const PortName = "vessel.agent"

// VirtioPortsDir is where the kernel lists virtio-serial ports.
const VirtioPortsDir = "/sys/class/virtio-ports"

// Transport yields one connection per host session.
type Transport interface {
	Next(ctx context.Context) (io.ReadWriteCloser, error)
	Close() error
	String() string
}

// ErrPortNotFound is returned when no virtio-serial port has the name.
var ErrPortNotFound = errors.New("virtio-serial port not found")

// FindPort returns the device name (e.g. "vport0p1") of the port called name under classDir.
func FindPort(classDir, name string) (string, error) {
	ents, err := os.ReadDir(classDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(classDir, e.Name(), "name"))
		if err == nil && strings.TrimSpace(string(b)) == name {
			return e.Name(), nil
		}
	}
	return "", fmt.Errorf("%w: %q in %s", ErrPortNotFound, name, classDir)
}

// pollEvery is how often the agent re-checks a condition the kernel gives no
// notification for (a sysfs entry appearing, a virtio-serial host connecting).
const pollEvery = 2 * time.Millisecond

// WaitPort waits up to timeout for FindPort to succeed.
func WaitPort(ctx context.Context, classDir, name string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var dev string
	err := pollUntil(ctx, func() (bool, error) {
		d, err := FindPort(classDir, name)
		if errors.Is(err, ErrPortNotFound) {
			return false, nil
		}
		dev = d
		return err == nil, err
	})
	if err != nil && errors.Is(err, context.DeadlineExceeded) {
		return "", fmt.Errorf("%w: %q after %v", ErrPortNotFound, name, timeout)
	}
	return dev, err
}

// pollUntil calls check every pollEvery until it reports done, fails, or ctx ends.
func pollUntil(ctx context.Context, check func() (bool, error)) error {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		done, err := check()
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// VirtioSerial is the virtio-serial transport.
type VirtioSerial struct {
	Path string // /dev/vportNpM
	cur  *os.File
	// kept is the port a session left open for the next (with its read buffer), or nil.
	kept   io.ReadWriteCloser
	keptMu sync.Mutex
	// hostConnected reports whether a host is connected to f (tests replace it).
	hostConnected func(f *os.File) (bool, error)
	open          func(path string) (*os.File, error)
}

// OpenVirtioSerial waits up to wait for the port named name, and opens it.
func OpenVirtioSerial(ctx context.Context, name string, wait time.Duration) (*VirtioSerial, error) {
	dev, err := WaitPort(ctx, VirtioPortsDir, name, wait)
	if err != nil {
		return nil, err
	}
	v := &VirtioSerial{Path: "/dev/" + dev, hostConnected: pollHostConnected, open: openPort}
	if v.cur, err = v.open(v.Path); err != nil {
		return nil, err
	}
	return v, nil
}

func openPort(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY, 0)
}

// pollHostConnected: virtio_console reports POLLHUP while the host side is closed.
func pollHostConnected(f *os.File) (bool, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return false, err
	}
	var revents int16
	var perr error
	if err := rc.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		_, perr = unix.Poll(fds, 0)
		revents = fds[0].Revents
	}); err != nil {
		return false, err
	}
	if perr != nil && !errors.Is(perr, unix.EINTR) {
		return false, perr
	}
	return perr == nil && revents&(unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) == 0, nil
}

// Next returns the port once a host is connected. The caller closes the returned
// value when its session ends; the following Next reopens the device, or reuses the port
// the session left open (see portSession).
func (v *VirtioSerial) Next(ctx context.Context) (io.ReadWriteCloser, error) {
	v.keptMu.Lock()
	kept := v.kept
	v.kept = nil
	v.keptMu.Unlock()
	if kept == nil && v.cur == nil {
		// The previous session's Close may still be releasing the port (EBUSY).
		err := pollUntil(ctx, func() (bool, error) {
			f, err := v.open(v.Path)
			if errors.Is(err, unix.EBUSY) {
				return false, nil
			}
			v.cur = f
			return err == nil, err
		})
		if err != nil {
			return nil, err
		}
	}
	if err := pollUntil(ctx, func() (bool, error) { return v.hostConnected(v.cur) }); err != nil {
		if kept != nil {
			v.keep(kept, v.cur)
		}
		return nil, err
	}
	f := v.cur
	v.cur = nil
	if kept == nil {
		kept = NewPortConn(f)
	}
	return newPortSession(v, f, kept), nil
}

// keep takes back the port a session left open, with its connection (and the bytes
// it has buffered), for the next session.
func (v *VirtioSerial) keep(conn io.ReadWriteCloser, f *os.File) {
	v.keptMu.Lock()
	v.kept, v.cur = conn, f
	v.keptMu.Unlock()
}

// Close closes a port not yet handed out (or one a session left open).
func (v *VirtioSerial) Close() error {
	v.keptMu.Lock()
	defer v.keptMu.Unlock()
	v.kept = nil
	if v.cur != nil {
		err := v.cur.Close()
		v.cur = nil
		return err
	}
	return nil
}

func (v *VirtioSerial) String() string { return "virtio-serial " + v.Path }

// Listener adapts a net.Listener: each accepted connection is a session.
type Listener struct{ L net.Listener }

func (l Listener) Next(ctx context.Context) (io.ReadWriteCloser, error) {
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := l.L.Accept()
		ch <- res{c, err}
	}()
	select {
	case r := <-ch:
		return r.c, r.err
	case <-ctx.Done():
		_ = l.L.Close()
		if r := <-ch; r.c != nil {
			r.c.Close()
		}
		return nil, ctx.Err()
	}
}
func (l Listener) Close() error   { return l.L.Close() }
func (l Listener) String() string { return l.L.Addr().Network() + " " + l.L.Addr().String() }
