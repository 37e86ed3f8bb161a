package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Vsock listens on an AF_VSOCK port (any CID) and yields one accepted connection per Next.
type Vsock struct {
	Port uint32
	f    *os.File
}

// ListenVsock binds and listens on port.
func ListenVsock(port uint32) (*Vsock, error) {
	fd, err := unix.Socket(unix.AF_VSOCK, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("vsock socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrVM{CID: unix.VMADDR_CID_ANY, Port: port}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("vsock bind %d: %w", port, err)
	}
	if err := unix.Listen(fd, 4); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("vsock listen: %w", err)
	}
	return &Vsock{Port: port, f: os.NewFile(uintptr(fd), fmt.Sprintf("vsock:%d", port))}, nil
}

// Next accepts one connection (through Go's poller, so Close interrupts it).
func (v *Vsock) Next(ctx context.Context) (io.ReadWriteCloser, error) {
	rc, err := v.f.SyscallConn()
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = v.f.SetReadDeadline(aLongTimeAgo) })
	defer stop()
	var nfd int
	var aerr error
	err = rc.Read(func(fd uintptr) bool {
		nfd, _, aerr = unix.Accept4(int(fd), unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK)
		return !errors.Is(aerr, unix.EAGAIN)
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if aerr != nil {
		return nil, aerr
	}
	return os.NewFile(uintptr(nfd), "vsock-conn"), nil
}

func (v *Vsock) Close() error   { return v.f.Close() }
func (v *Vsock) String() string { return fmt.Sprintf("vsock port %d", v.Port) }

var aLongTimeAgo = time.Unix(1, 0)
