package transport

import (
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// socketPort is a pollable, bidirectional stand-in for a virtio-serial port: the agent's
// end and the host's end of a socketpair.
func socketPort(t *testing.T) (agent, host *os.File) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	agent, host = os.NewFile(uintptr(fds[0]), "agent"), os.NewFile(uintptr(fds[1]), "host")
	t.Cleanup(func() { agent.Close(); host.Close() })
	return agent, host
}

func serialOver(f *os.File, opens *int) *VirtioSerial {
	return &VirtioSerial{
		Path:          "port",
		open:          func(string) (*os.File, error) { *opens++; return f, nil },
		hostConnected: func(*os.File) (bool, error) { return true, nil },
	}
}

func TestSessionThatReadNothingKeepsThePort(t *testing.T) {
	agent, host := socketPort(t)
	opens := 0
	v := serialOver(agent, &opens)
	c1, err := v.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	readDone := make(chan error, 1)
	go func() { _, err := c1.Read(make([]byte, 16)); readDone <- err }() // a reader blocked in the port
	if err := c1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-readDone; err == nil {
		t.Fatal("the blocked read must fail once the session closes")
	}
	// A host writes before the next session starts: nothing is lost.
	if _, err := host.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	c2, err := v.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if opens != 1 {
		t.Fatalf("the port was reopened (%d opens)", opens)
	}
	got := make([]byte, 5)
	if _, err := io.ReadFull(c2, got); err != nil || string(got) != "hello" {
		t.Fatalf("next session read %q %v", got, err)
	}
}

func TestSessionThatReadSomethingClosesThePort(t *testing.T) {
	agent, host := socketPort(t)
	opens := 0
	v := serialOver(agent, &opens)
	c1, _ := v.Next(context.Background())
	host.Write([]byte("x"))
	if _, err := c1.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	c1.Close()
	if _, err := unix.FcntlInt(agent.Fd(), unix.F_GETFD, 0); err == nil {
		t.Fatal("the port must be closed after a session that read")
	}
	v.open = func(string) (*os.File, error) { opens++; return nil, errors.New("reopened") }
	if _, err := v.Next(context.Background()); err == nil || opens != 2 {
		t.Fatalf("the next session must reopen the port: %v, %d opens", err, opens)
	}
}

func TestParkedSessionHandsThePortOverAtTheToken(t *testing.T) {
	agent, host := socketPort(t)
	opens := 0
	v := serialOver(agent, &opens)
	c1, _ := v.Next(context.Background())
	host.Write([]byte("req"))
	if _, err := io.ReadFull(c1, make([]byte, 3)); err != nil {
		t.Fatal(err)
	}
	readDone := make(chan error, 1)
	go func() { _, err := c1.Read(make([]byte, 16)); readDone <- err }() // blocked in the port
	token := []byte("0123456789abcdef")
	if err := c1.(Detachable).Park(token); err != nil {
		t.Fatal(err)
	}
	if err := c1.(Detachable).Park(token); !errors.Is(err, ErrSessionEnded) {
		t.Fatalf("a second Park: %v", err)
	}
	// what the old host still sends, then the token, then the next host's first bytes
	host.Write([]byte("stale"))
	host.Write(token)
	host.Write([]byte("next"))
	select {
	case err := <-readDone:
		t.Fatalf("a parked read returned before Close: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	if _, err := c1.Write([]byte("reply")); err != nil { // the session still answers
		t.Fatal(err)
	}
	if err := c1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-readDone; err == nil {
		t.Fatal("the parked read must fail once the session closes")
	}
	want := "reply" + DetachAck + string(token)
	got := make([]byte, len(want))
	if _, err := io.ReadFull(host, got); err != nil || string(got) != want {
		t.Fatalf("host read %q %v", got, err)
	}
	c2, err := v.Next(context.Background())
	if err != nil || opens != 1 {
		t.Fatalf("next session: %v, %d opens", err, opens)
	}
	defer c2.Close()
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c2, buf); err != nil || string(buf) != "next" {
		t.Fatalf("next session read %q %v", buf, err)
	}
}
