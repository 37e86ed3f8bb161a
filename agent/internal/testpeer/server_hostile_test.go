package testpeer

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containerd/ttrpc"
	"github.com/hashicorp/yamux"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"vessel.dev/agent/internal/testpb"
)

// rstWatch follows the frames a session writes and reports RSTs by stream id.
type rstWatch struct {
	net.Conn
	mu     sync.Mutex
	frames yamuxFrameFollower
	rst    map[uint32]chan struct{}
}

func newRSTWatch(c net.Conn) *rstWatch {
	w := &rstWatch{Conn: c, rst: make(map[uint32]chan struct{})}
	w.frames.onHeader = func(h yamuxHeader) {
		if h.Type() != yamuxTypeData && h.Flags()&yamuxFlagRST != 0 {
			close(w.chanLocked(h.StreamID()))
		}
	}
	return w
}

func (w *rstWatch) chanLocked(id uint32) chan struct{} {
	ch, ok := w.rst[id]
	if !ok {
		ch = make(chan struct{})
		w.rst[id] = ch
	}
	return ch
}

// sent is closed once an RST for stream id has been written.
func (w *rstWatch) sent(id uint32) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.chanLocked(id)
}

func (w *rstWatch) Write(b []byte) (int, error) {
	n, err := w.Conn.Write(b)
	w.mu.Lock()
	w.frames.follow(b[:n])
	w.mu.Unlock()
	return n, err
}

// dialSession opens a yamux client session and its ttrpc control plane.
func dialSession(t *testing.T, path string, wrap func(net.Conn) net.Conn, closeTimeout time.Duration) (*yamux.Session, testpb.InteropTestClient) {
	t.Helper()
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		conn = wrap(conn)
	}
	sess, err := yamux.Client(conn, yamuxConfig(0, closeTimeout, 0, 0, testLogger(t).Writer()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sess.Close() })
	ctl, err := sess.OpenStream()
	if err != nil {
		t.Fatal(err)
	}
	client := ttrpc.NewClient(ctl)
	t.Cleanup(func() { _ = client.Close() })
	return sess, testpb.NewInteropTestClient(client)
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestRawResultReportsReset(t *testing.T) {
	path := startServer(t, ServerOptions{})
	var watch *rstWatch
	sess, api := dialSession(t, path, func(c net.Conn) net.Conn { watch = newRSTWatch(c); return watch }, 50*time.Millisecond)
	ctx := testCtx(t)
	st, err := sess.OpenStream()
	if err != nil {
		t.Fatal(err)
	}
	if err := claimRawStream(st, "hold:r1"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Write([]byte("held bytes")); err != nil {
		t.Fatal(err)
	}
	// The held server never FINs back, so our close timeout resets the stream.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-watch.sent(st.StreamID()):
	case <-ctx.Done():
		t.Fatal("no RST sent")
	}
	// Release travels behind the RST on the same connection.
	if _, err := api.Release(ctx, &testpb.ReleaseRequest{Name: "r1"}); err != nil {
		t.Fatal(err)
	}
	res, err := api.RawResult(ctx, &testpb.RawResultRequest{Name: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if res.End != endReset || res.BytesWritten != 0 {
		t.Fatalf("RawResult = %+v, want end reset and nothing written", res)
	}
}

func TestRawResultWaitsForUnknownNameUntilDeadline(t *testing.T) {
	path := startServer(t, ServerOptions{})
	_, api := dialSession(t, path, nil, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := api.RawResult(ctx, &testpb.RawResultRequest{Name: "never-opened"})
	if status.Code(err) != codes.DeadlineExceeded && err != context.DeadlineExceeded {
		t.Fatalf("got %v, want DEADLINE_EXCEEDED", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("returned after %v", took)
	}
}

// refusal opens a stream, sends raw handshake bytes and returns the server's reply.
func refusal(t *testing.T, sess *yamux.Session, handshake []byte) string {
	t.Helper()
	st, err := sess.OpenStream()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Write(handshake); err != nil {
		t.Fatal(err)
	}
	reply, err := readHandshakeString(st)
	if err != nil {
		t.Fatalf("reading the reply: %v", err)
	}
	if n, err := io.Copy(io.Discard, st); n != 0 || err != nil {
		t.Fatalf("after a refusal: %d more bytes, %v; want EOF", n, err)
	}
	return reply
}

func TestHostileHandshakesAreRefused(t *testing.T) {
	path := startServer(t, ServerOptions{})
	sess, api := dialSession(t, path, nil, 0)
	withLen := func(n uint32, body string) []byte { return append(binary.BigEndian.AppendUint32(nil, n), body...) }

	cases := map[string]struct {
		handshake []byte
		want      string
	}{
		"length over 1024": {withLen(1<<31, ""), "invalid stream id length"},
		"zero length":      {withLen(0, ""), "invalid stream id length"},
		"unknown mode":     {withLen(5, "xxx:y"), "unknown stream mode"},
		"empty name":       {withLen(5, "echo:"), "malformed stream id"},
		"bad source size":  {withLen(10, "source:s:x"), "malformed stream id"},
	}
	for name, tc := range cases {
		if got := refusal(t, sess, tc.handshake); !strings.Contains(got, tc.want) {
			t.Errorf("%s: reply %q, want %q", name, got, tc.want)
		}
	}

	// A stream that ends inside its handshake is dropped quietly.
	st, err := sess.OpenStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Write([]byte{0, 0}); err != nil {
		t.Fatal(err)
	}
	_ = st.Close()

	// The session still serves.
	ctx := testCtx(t)
	if _, err := api.Echo(ctx, &testpb.EchoRequest{Message: "still here"}); err != nil {
		t.Fatal(err)
	}
	ok, err := sess.OpenStream()
	if err != nil {
		t.Fatal(err)
	}
	if err := claimRawStream(ok, "echo:fine"); err != nil {
		t.Fatal(err)
	}
	_ = ok.Close()
}

func TestGarbageConnectionsDoNotStopTheServer(t *testing.T) {
	path := startServer(t, ServerOptions{})
	ctx := testCtx(t)

	// Not yamux at all: the server drops the connection.
	bad, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	context.AfterFunc(ctx, func() { _ = bad.Close() })
	if _, err := bad.Write([]byte("GET / HTTP/1.1\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, bad); ctx.Err() != nil {
		t.Fatalf("server kept a non-yamux connection open: %v", err)
	}
	_ = bad.Close()

	// yamux, but garbage on the ttrpc control stream: an oversized frame header, then FIN.
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := yamux.Client(conn, yamuxConfig(0, 0, 0, 0, testLogger(t).Writer()))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	ctl, err := sess.OpenStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ctl.Write([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 1, 0}); err != nil {
		t.Fatal(err)
	}
	_ = ctl.Close()
	// The ttrpc server gives up on that stream and closes it.
	if _, err := io.Copy(io.Discard, ctl); ctx.Err() != nil {
		t.Fatalf("control stream never closed: %v", err)
	}

	// A fresh session is served normally.
	_, api := dialSession(t, path, nil, 0)
	if _, err := api.Echo(ctx, &testpb.EchoRequest{Message: "fresh"}); err != nil {
		t.Fatal(err)
	}
}
