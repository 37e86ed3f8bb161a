package streams

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/yamux"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// fixture: a guest-side registry serving a yamux server session, and the host's client session.
type fixture struct {
	t       *testing.T
	reg     *Registry
	host    *yamux.Session
	guest   *yamux.Session
	control chan net.Conn
	served  chan error
}

func quietConfig() *yamux.Config {
	c := yamux.DefaultConfig()
	c.EnableKeepAlive = false
	c.LogOutput = io.Discard
	return c
}

func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	a, b := net.Pipe()
	guest, err := yamux.Server(a, quietConfig())
	if err != nil {
		t.Fatal(err)
	}
	host, err := yamux.Client(b, quietConfig())
	if err != nil {
		t.Fatal(err)
	}
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	f := &fixture{t: t, reg: New(opts), host: host, guest: guest,
		control: make(chan net.Conn, 1), served: make(chan error, 1)}
	go func() { f.served <- f.reg.ServeSession(guest, func(c net.Conn) { f.control <- c }) }()
	// The first stream is the control plane.
	c, err := host.OpenStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("ctl")); err != nil { // yamux sends SYN with the first write
		t.Fatal(err)
	}
	select {
	case gc := <-f.control:
		buf := make([]byte, 3)
		if _, err := io.ReadFull(gc, buf); err != nil || string(buf) != "ctl" {
			t.Fatalf("control stream got %q, %v", buf, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("control stream not delivered")
	}
	t.Cleanup(func() {
		host.Close()
		guest.Close()
	})
	return f
}

func frame(s string) []byte {
	b := make([]byte, 4+len(s))
	binary.BigEndian.PutUint32(b, uint32(len(s)))
	copy(b[4:], s)
	return b
}

// open opens a host stream with id and returns it with the agent's reply.
func (f *fixture) open(id string) (*yamux.Stream, string) {
	f.t.Helper()
	s, err := f.host.OpenStream()
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := s.Write(frame(id)); err != nil {
		f.t.Fatal(err)
	}
	reply, err := readReply(s)
	if err != nil {
		f.t.Fatalf("handshake reply for %q: %v", id, err)
	}
	return s, reply
}

func readReply(s net.Conn) (string, error) {
	_ = s.SetReadDeadline(time.Now().Add(5 * time.Second))
	defer s.SetReadDeadline(time.Time{})
	return ReadHandshake(s)
}

func (f *fixture) accepted(id string) *yamux.Stream {
	f.t.Helper()
	s, reply := f.open(id)
	if reply != id {
		f.t.Fatalf("stream %q refused: %q", id, reply)
	}
	return s
}

func expectEOF(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.Read(make([]byte, 16))
	if err != io.EOF {
		t.Fatalf("want EOF, got %d bytes, %v", n, err)
	}
}

func TestArrivalBeforeClaimAndHalfClose(t *testing.T) {
	f := newFixture(t, Options{})
	hs := f.accepted("stdout-1")
	if n := f.reg.Unclaimed(); n != 1 {
		t.Fatalf("unclaimed = %d", n)
	}
	rwc, err := f.reg.Claim(context.Background(), "stdout-1", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	gs := rwc.(*Stream)
	if _, err := gs.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := gs.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(hs)
	if err != nil || string(got) != "hello" {
		t.Fatalf("host read %q, %v", got, err)
	}
	// Reads continue after CloseWrite.
	if _, err := hs.Write([]byte("more")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(gs, buf); err != nil || string(buf) != "more" {
		t.Fatalf("guest read %q, %v", buf, err)
	}
	// Claimed once only, while open.
	if _, err := f.reg.Claim(context.Background(), "stdout-1", 10*time.Millisecond); status.Code(err) != codes.AlreadyExists {
		t.Fatalf("second claim: %v", err)
	}
	_ = gs.Close()
	if _, err := gs.Read(buf); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	// The id is free again after Close.
	hs2 := f.accepted("stdout-1")
	defer hs2.Close()
}

func TestClaimBeforeArrival(t *testing.T) {
	f := newFixture(t, Options{})
	type res struct {
		rwc io.ReadWriteCloser
		err error
	}
	done := make(chan res, 1)
	go func() {
		rwc, err := f.reg.Claim(context.Background(), "stdin-7", 5*time.Second)
		done <- res{rwc, err}
	}()
	// Wait until the claim is registered as a waiter (observable state, not a sleep).
	waitFor(t, func() bool {
		f.reg.mu.Lock()
		defer f.reg.mu.Unlock()
		_, ok := f.reg.waiters["stdin-7"]
		return ok
	})
	hs := f.accepted("stdin-7")
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if _, err := hs.Write([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 3)
	if _, err := io.ReadFull(r.rwc, buf); err != nil || string(buf) != "abc" {
		t.Fatalf("read %q %v", buf, err)
	}
	if f.reg.Unclaimed() != 0 {
		t.Fatal("a stream handed to a waiter must not be parked")
	}
	// A second waiter for the same id is refused while the first holds it.
	if _, err := f.reg.Claim(context.Background(), "stdin-7", time.Millisecond); status.Code(err) != codes.AlreadyExists {
		t.Fatalf("claim of held id: %v", err)
	}
	// And the host cannot open a duplicate while it is claimed.
	_, reply := f.open("stdin-7")
	if reply != refuseDuplicate {
		t.Fatalf("duplicate of claimed id: reply %q", reply)
	}
	r.rwc.Close()
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestClaimTimeoutAndCancel(t *testing.T) {
	f := newFixture(t, Options{})
	_, err := f.reg.Claim(context.Background(), "never", 20*time.Millisecond)
	if !errors.Is(err, ErrStreamTimeout) || status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("want DEADLINE_EXCEEDED, got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.reg.Claim(ctx, "never", time.Minute); !errors.Is(err, context.Canceled) {
		t.Fatalf("want canceled, got %v", err)
	}
	if _, err := f.reg.Claim(context.Background(), "", time.Second); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("empty id: %v", err)
	}
	// The waiter was removed: a later arrival is parked, not lost.
	f.accepted("never")
	if f.reg.Unclaimed() != 1 {
		t.Fatal("stream after a timed-out claim must be parked")
	}
}

func TestDuplicateRefused(t *testing.T) {
	f := newFixture(t, Options{})
	f.accepted("x")
	s, reply := f.open("x")
	if reply != refuseDuplicate {
		t.Fatalf("reply %q", reply)
	}
	expectEOF(t, s)
	if f.reg.Unclaimed() != 1 {
		t.Fatal("the original stream must stay parked")
	}
}

func TestRefusalNeverEqualsID(t *testing.T) {
	f := newFixture(t, Options{})
	f.accepted(refuseDuplicate)
	_, reply := f.open(refuseDuplicate)
	if reply == refuseDuplicate || !strings.Contains(reply, refuseDuplicate) {
		t.Fatalf("reply %q", reply)
	}
}

func TestBadLengthRefused(t *testing.T) {
	f := newFixture(t, Options{})
	for _, n := range []uint32{0, MaxIDLen + 1, 1 << 31} {
		s, err := f.host.OpenStream()
		if err != nil {
			t.Fatal(err)
		}
		var hdr [4]byte
		binary.BigEndian.PutUint32(hdr[:], n)
		if _, err := s.Write(hdr[:]); err != nil {
			t.Fatal(err)
		}
		reply, err := readReply(s)
		if err != nil || !strings.Contains(reply, "invalid stream id length") {
			t.Fatalf("length %d: reply %q, %v", n, reply, err)
		}
		expectEOF(t, s)
	}
	// Max length is fine.
	f.accepted(strings.Repeat("a", MaxIDLen))
}

func TestHandshakeTimeout(t *testing.T) {
	f := newFixture(t, Options{HandshakeTimeout: 30 * time.Millisecond})
	s, err := f.host.OpenStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write([]byte{0, 0}); err != nil { // half a header, then silence
		t.Fatal(err)
	}
	expectEOF(t, s)
}

func TestRegistryFull(t *testing.T) {
	f := newFixture(t, Options{MaxUnclaimed: 2})
	f.accepted("a")
	f.accepted("b")
	_, reply := f.open("c")
	if reply != refuseFull {
		t.Fatalf("reply %q", reply)
	}
	// A claim frees a slot.
	rwc, err := f.reg.Claim(context.Background(), "a", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer rwc.Close()
	f.accepted("c")
}

func TestUnclaimedExpire(t *testing.T) {
	f := newFixture(t, Options{Expiry: 30 * time.Millisecond})
	s := f.accepted("late")
	expectEOF(t, s) // the agent closed it
	if n := f.reg.Unclaimed(); n != 0 {
		t.Fatalf("unclaimed after expiry = %d", n)
	}
	if _, err := f.reg.Claim(context.Background(), "late", 10*time.Millisecond); !errors.Is(err, ErrStreamTimeout) {
		t.Fatalf("claim after expiry: %v", err)
	}
	// The id can be used again.
	f.accepted("late")
}

func TestClosedStreamDrainsHostWrites(t *testing.T) {
	f := newFixture(t, Options{})
	hs := f.accepted("d")
	rwc, err := f.reg.Claim(context.Background(), "d", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rwc.Close()
	expectEOF(t, hs)
	// Far more than a yamux window (256 KiB): must not block though nobody reads.
	done := make(chan error, 1)
	go func() {
		_, err := hs.Write(bytes.Repeat([]byte{1}, 2<<20))
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("host write blocked on a closed stream")
	}
}

func TestSessionEndDropsParked(t *testing.T) {
	f := newFixture(t, Options{})
	f.accepted("p")
	f.host.Close()
	select {
	case <-f.served:
	case <-time.After(5 * time.Second):
		t.Fatal("ServeSession did not return")
	}
	if f.reg.Unclaimed() != 0 {
		t.Fatal("parked streams of an ended session must be dropped")
	}
}

func echoServer(t *testing.T, l net.Listener) {
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				_, _ = io.Copy(c, c)
				if cw, ok := c.(interface{ CloseWrite() error }); ok {
					_ = cw.CloseWrite()
				}
				// Wait for the peer to close before closing fully.
				_, _ = io.Copy(io.Discard, c)
				c.Close()
			}()
		}
	}()
	t.Cleanup(func() { l.Close() })
}

func checkEcho(t *testing.T, s net.Conn) {
	t.Helper()
	msg := bytes.Repeat([]byte("0123456789"), 50000) // 500 kB, above one window
	go func() {
		_, _ = s.Write(msg)
		_ = s.Close() // yamux: FIN (half-close)
	}()
	_ = s.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(s)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo: %d bytes, %v", len(got), err)
	}
}

func TestTCPClaimer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	echoServer(t, l)
	port := l.Addr().(*net.TCPAddr).Port
	f := newFixture(t, Options{})
	id := "tcp:" + itoa(port)
	s1 := f.accepted(id)
	s2 := f.accepted(id) // one port may be forwarded many times at once
	checkEcho(t, s1)
	checkEcho(t, s2)
	if f.reg.Unclaimed() != 0 {
		t.Fatal("built-in streams must not be parked")
	}
}

func TestTCPClaimerRefusals(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // nothing listens there now
	f := newFixture(t, Options{})
	s, reply := f.open("tcp:" + itoa(port))
	if !strings.Contains(reply, "refused") {
		t.Fatalf("reply %q", reply)
	}
	expectEOF(t, s)
	for _, bad := range []string{"tcp:", "tcp:0", "tcp:65536", "tcp:+80", "tcp:080", "tcp:x"} {
		_, reply := f.open(bad)
		if !strings.Contains(reply, "invalid tcp port") {
			t.Fatalf("%q: reply %q", bad, reply)
		}
	}
}

func TestUnixClaimer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "echo.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	echoServer(t, l)
	f := newFixture(t, Options{})
	checkEcho(t, f.accepted("unix:"+path))
	_, reply := f.open("unix:" + path + ".missing")
	if !strings.Contains(reply, "no such file") {
		t.Fatalf("reply %q", reply)
	}
	_, reply = f.open("unix:relative.sock")
	if !strings.Contains(reply, "invalid unix socket path") {
		t.Fatalf("reply %q", reply)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
