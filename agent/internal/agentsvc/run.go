package agentsvc

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/containerd/ttrpc"
	"github.com/hashicorp/yamux"

	"vessel.dev/agent/internal/streams"
	"vessel.dev/agent/internal/transport"
)

// Runner serves the control plane and raw streams over a transport: one yamux server
// session per host connection, its first stream given to one shared ttrpc server, the
// others to the stream registry.
type Runner struct {
	Transport transport.Transport
	Registry  *streams.Registry
	Server    *ttrpc.Server
	Yamux     *yamux.Config // nil: DefaultYamuxConfig(io.Discard)
	// Concurrent serves each connection in its own goroutine (listener transports);
	// otherwise one session at a time (virtio-serial, vsock).
	Concurrent bool
	// OnServing is called once the control plane is being served, before the first
	// host connection is awaited (the agent prints "ready" there).
	OnServing func()
	Logf      func(format string, args ...any)

	mu          sync.Mutex
	current     io.ReadWriteCloser // the session's connection (one at a time), for Detach
	currentSess *yamux.Session
	waiters     []chan struct{}
	pending     atomic.Bool // waiters is non-empty (keeps the write path lock-free)
}

// DefaultYamuxConfig is the agent's yamux configuration: default windows, no
// keep-alives (the host decides liveness), yamux's own logs to out.
func DefaultYamuxConfig(out io.Writer) *yamux.Config {
	c := yamux.DefaultConfig()
	c.EnableKeepAlive = false
	c.LogOutput = out
	return c
}

// Run serves until ctx ends or the transport fails.
func (r *Runner) Run(ctx context.Context) error {
	if r.Logf == nil {
		r.Logf = func(string, ...any) {}
	}
	debugProfile()
	cfg := r.Yamux
	if cfg == nil {
		cfg = DefaultYamuxConfig(io.Discard)
	}
	l := NewConnListener()
	defer l.Close()
	serveErr := make(chan error, 1)
	go func() { serveErr <- r.Server.Serve(ctx, l) }()
	if r.OnServing != nil {
		r.OnServing()
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		conn, err := r.Transport.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		select {
		case err := <-serveErr:
			conn.Close()
			return err
		default:
		}
		sess, err := yamux.Server(&notifyConn{ReadWriteCloser: transport.CoalesceFrames(conn), r: r}, cfg)
		if err != nil {
			conn.Close()
			return err
		}
		r.Logf("host connected (%s)", r.Transport)
		if !r.Concurrent {
			r.mu.Lock()
			r.current, r.currentSess = conn, sess
			r.mu.Unlock()
		}
		serve := func() {
			err := r.Registry.ServeSession(sess, l.Offer)
			sess.Close()
			r.mu.Lock()
			if r.current == conn {
				r.current, r.currentSess = nil, nil
			}
			r.mu.Unlock()
			if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, yamux.ErrSessionShutdown) {
				r.Logf("session ended: %v", err)
			} else {
				r.Logf("host disconnected")
			}
		}
		if r.Concurrent {
			wg.Add(1)
			go func() { defer wg.Done(); serve() }()
			continue
		}
		serve()
	}
}

// Detach token bounds (agent.proto DetachRequest).
const (
	minDetachToken = 16
	maxDetachToken = 64
)

// ErrBadToken: a Detach token out of bounds.
var ErrBadToken = errors.New("the token must be 16..64 bytes")

// Detach hands the current session's port over (agent.proto Detach): the session stops
// receiving now; once the reply has been written (bounded by replyGrace) the session is
// closed, which reads up to the host's token, acknowledges it and keeps the port open for
// the next session. An error: a bad token, no session, or a transport that cannot.
func (r *Runner) Detach(token []byte) error {
	if len(token) < minDetachToken || len(token) > maxDetachToken {
		return ErrBadToken
	}
	r.mu.Lock()
	conn, sess := r.current, r.currentSess
	r.mu.Unlock()
	d, ok := conn.(transport.Detachable)
	if r.Concurrent || !ok || sess == nil {
		return errors.New("this transport cannot hand a session over")
	}
	next := r.NextWrite()
	if err := d.Park(token); err != nil {
		return err
	}
	go func() {
		select {
		case <-next:
		case <-time.After(replyGrace):
		}
		if err := sess.Close(); err != nil {
			r.Logf("detach: %v", err)
		}
	}()
	return nil
}

// NextWrite returns a channel closed once the next write to any transport completes.
// Shutdown uses it to let its reply reach the host before the VM powers off.
func (r *Runner) NextWrite() <-chan struct{} {
	ch := make(chan struct{})
	r.mu.Lock()
	r.waiters = append(r.waiters, ch)
	r.pending.Store(true)
	r.mu.Unlock()
	return ch
}

func (r *Runner) wrote() {
	if !r.pending.Load() {
		return
	}
	r.mu.Lock()
	r.pending.Store(false)
	ws := r.waiters
	r.waiters = nil
	r.mu.Unlock()
	for _, ch := range ws {
		close(ch)
	}
}

// notifyConn reports completed writes to its Runner.
type notifyConn struct {
	io.ReadWriteCloser
	r *Runner
}

func (c *notifyConn) Write(p []byte) (int, error) {
	n, err := c.ReadWriteCloser.Write(p)
	c.r.wrote()
	return n, err
}
