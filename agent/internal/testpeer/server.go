package testpeer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"sync"
	"time"

	"github.com/containerd/ttrpc"
	"github.com/hashicorp/yamux"

	"vessel.dev/agent/internal/testpb"
)

// ServerOptions configures RunServer.
type ServerOptions struct {
	Listen    string // unix socket path
	TTRPCOnly bool   // serve ttrpc directly on each connection, no yamux

	Window             uint32        // yamux MaxStreamWindowSize; 0 = default
	StreamCloseTimeout time.Duration // 0 = yamux default
	KeepAlive          time.Duration // 0 = keepalive off
	AcceptBacklog      int           // 0 = yamux default

	Log *log.Logger // required

	// Ready is called once the socket listens.
	Ready func()
	// GoAwayRequests, if set: each receive sends a yamux GoAway on every open session.
	GoAwayRequests <-chan struct{}
	// OnRawClaimed, if set, is called after each accepted raw stream handshake.
	OnRawClaimed func(id string, sess *yamux.Session)
	// IgnoreGoAwayMode serves goaway:NAME streams without sending GoAway (a wrong server,
	// for tests proving the await-goaway check can fail).
	IgnoreGoAwayMode bool

	// newService replaces the InteropTest implementation (tests use it to serve wrong answers).
	newService func(reg *rawRegistry) testpb.InteropTestService
}

// yamuxConfig builds the yamux config shared by the server, client and benchmarks.
func yamuxConfig(window uint32, closeTimeout, keepAlive time.Duration, backlog int, logOut io.Writer) *yamux.Config {
	cfg := yamux.DefaultConfig()
	cfg.LogOutput = logOut
	cfg.EnableKeepAlive = keepAlive > 0
	if keepAlive > 0 {
		cfg.KeepAliveInterval = keepAlive
	}
	if window > 0 {
		cfg.MaxStreamWindowSize = window
	}
	if closeTimeout > 0 {
		cfg.StreamCloseTimeout = closeTimeout
	}
	if backlog > 0 {
		cfg.AcceptBacklog = backlog
	}
	return cfg
}

// RunServer listens on opts.Listen and serves until ctx ends.
func RunServer(ctx context.Context, opts ServerOptions) error {
	_ = os.Remove(opts.Listen)
	l, err := net.Listen("unix", opts.Listen)
	if err != nil {
		return err
	}
	defer os.Remove(opts.Listen)
	stop := context.AfterFunc(ctx, func() { _ = l.Close() })
	defer stop()
	if opts.Ready != nil {
		opts.Ready()
	}

	if opts.TTRPCOnly {
		ts, err := newInteropServer(opts.service(newRawRegistry()))
		if err != nil {
			return err
		}
		defer ts.Close()
		err = ts.Serve(ctx, l)
		if ctx.Err() != nil {
			return nil
		}
		return err
	}

	live := newSessionSet()
	if opts.GoAwayRequests != nil {
		go func() {
			for {
				select {
				case <-opts.GoAwayRequests:
					opts.Log.Printf("GoAway sent on %d session(s)", live.goAway())
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		conn, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := serveSession(ctx, conn, opts, live); err != nil {
				opts.Log.Printf("session: %v", err)
			}
		}()
	}
}

// sessionSet tracks a server's open yamux sessions.
type sessionSet struct {
	mu       sync.Mutex
	sessions map[*yamux.Session]struct{}
}

func newSessionSet() *sessionSet {
	return &sessionSet{sessions: make(map[*yamux.Session]struct{})}
}

func (s *sessionSet) add(sess *yamux.Session) {
	s.mu.Lock()
	s.sessions[sess] = struct{}{}
	s.mu.Unlock()
}

func (s *sessionSet) remove(sess *yamux.Session) {
	s.mu.Lock()
	delete(s.sessions, sess)
	s.mu.Unlock()
}

// goAway sends GoAway on every session and returns how many it reached.
func (s *sessionSet) goAway() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for sess := range s.sessions {
		if sess.GoAway() == nil {
			n++
		}
	}
	return n
}

func (opts ServerOptions) service(reg *rawRegistry) testpb.InteropTestService {
	if opts.newService != nil {
		return opts.newService(reg)
	}
	return &interopService{raw: reg}
}

func newInteropServer(svc testpb.InteropTestService) (*ttrpc.Server, error) {
	ts, err := ttrpc.NewServer()
	if err != nil {
		return nil, err
	}
	testpb.RegisterInteropTestService(ts, svc)
	return ts, nil
}

// serveSession runs one yamux server session: its first stream is the ttrpc control
// plane, later streams are raw streams.
func serveSession(ctx context.Context, conn net.Conn, opts ServerOptions, live *sessionSet) error {
	cfg := yamuxConfig(opts.Window, opts.StreamCloseTimeout, opts.KeepAlive, opts.AcceptBacklog, opts.Log.Writer())
	sess, err := yamux.Server(conn, cfg)
	if err != nil {
		_ = conn.Close()
		return fmt.Errorf("yamux server: %w", err)
	}
	defer sess.Close()
	live.add(sess)
	defer live.remove(sess)
	stop := context.AfterFunc(ctx, func() { _ = sess.Close() })
	defer stop()

	reg := newRawRegistry()
	ts, err := newInteropServer(opts.service(reg))
	if err != nil {
		return err
	}
	defer ts.Close()
	q := newConnQueue(sess.Addr())
	go func() { _ = ts.Serve(ctx, q) }()

	rs := &rawSession{sess: sess, reg: reg, ttrpcQ: q, logger: opts.Log, onClaimed: opts.OnRawClaimed, ignoreGoAwayMode: opts.IgnoreGoAwayMode}
	first := true
	for {
		st, err := sess.AcceptStream()
		if err != nil {
			if sess.IsClosed() {
				return nil
			}
			return err
		}
		if first {
			first = false
			if !q.push(st) {
				_ = st.Close()
			}
			continue
		}
		go rs.serveRawStream(st)
	}
}
