package streams

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Stream is a raw byte stream the host opened and named by id. It is handed out by
// Registry.Claim (or joined by a built-in claimer) after the handshake was accepted.
//
// CloseWrite sends FIN (the peer reads EOF) while reads continue; Close ends both
// directions: later reads fail, and whatever the host still sends is drained and
// discarded so the host never stalls on a stream nobody reads. Close releases the id
// in the registry, so the host may reuse it for a new stream.
type Stream struct {
	conn net.Conn // *yamux.Stream in production
	id   string

	readMu  sync.Mutex // held by Read; Close waits for it before draining
	closed  atomic.Bool
	once    sync.Once
	release func()
}

var _ io.ReadWriteCloser = (*Stream)(nil)

// ID is the id the host named this stream with.
func (s *Stream) ID() string { return s.id }

// Read reads from the host. After Close it returns net.ErrClosed.
func (s *Stream) Read(p []byte) (int, error) {
	if s.closed.Load() {
		return 0, net.ErrClosed
	}
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if s.closed.Load() {
		return 0, net.ErrClosed
	}
	n, err := s.conn.Read(p)
	if err != nil && s.closed.Load() {
		return n, net.ErrClosed
	}
	return n, err
}

// Write writes to the host.
func (s *Stream) Write(p []byte) (int, error) { return s.conn.Write(p) }

// CloseWrite half-closes: the host reads EOF, reads from the host continue.
// (yamux Stream.Close sends FIN and keeps the receive side open.)
func (s *Stream) CloseWrite() error { return s.conn.Close() }

// SetDeadline and friends pass through to the underlying stream.
func (s *Stream) SetDeadline(t time.Time) error      { return s.conn.SetDeadline(t) }
func (s *Stream) SetReadDeadline(t time.Time) error  { return s.conn.SetReadDeadline(t) }
func (s *Stream) SetWriteDeadline(t time.Time) error { return s.conn.SetWriteDeadline(t) }

// Close closes both directions; see the type comment. Safe to call more than once.
func (s *Stream) Close() error {
	s.once.Do(func() {
		s.closed.Store(true)
		_ = s.conn.SetReadDeadline(time.Now()) // wake a blocked Read
		err := s.conn.Close()                  // FIN
		if s.release != nil {
			s.release()
		}
		go s.drain(err == nil)
	})
	return nil
}

// drain discards what the host still sends until it ends its side (or yamux gives up
// on the stream after its StreamCloseTimeout), so the stream is fully released.
func (s *Stream) drain(ok bool) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if !ok {
		return
	}
	_ = s.conn.SetReadDeadline(time.Time{})
	_, _ = io.Copy(io.Discard, s.conn)
}
