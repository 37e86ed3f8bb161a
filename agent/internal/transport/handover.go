package transport

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Detachable is a session's connection that can be handed over to the next session
// without closing the port: what a snapshot needs (agent.proto Detach).
type Detachable interface {
	// Detach stops reading (the session's reader fails, so the session ends); once the
	// session has closed the connection, final is written as its last bytes and the port
	// is kept open for the next session. An error: this connection cannot be detached.
	Detach(final []byte) error
}

// ErrNoDeadlines: the port cannot interrupt a blocked read without closing it.
var ErrNoDeadlines = errors.New("the port does not support deadlines: a session on it cannot be detached")

// finalWriteBound bounds writing Detach's final bytes (a host that does not read).
const finalWriteBound = 2 * time.Second

// portSession is one host session's use of a virtio-serial port. Closing it either
// closes the port (the session read something: what the host left unread is dropped with
// it, as virtio_console does on the next open) or, when the session read nothing or was
// detached, stops its reader and writer and keeps the port and its read buffer for the
// next session: virtio_console drops unread data when a port is opened, so reopening would
// lose the first bytes of a host that connected meanwhile (after a restore from a snapshot,
// a host connects at once).
type portSession struct {
	v    *VirtioSerial
	f    *os.File
	conn io.ReadWriteCloser

	readMu   sync.Mutex // held by Read: Close waits for the reader to leave
	writeMu  sync.Mutex // held by Write: Close waits for the writer to leave
	stopped  atomic.Bool
	readAny  atomic.Bool
	detached atomic.Bool
	final    []byte
	once     sync.Once
	closeErr error
}

func newPortSession(v *VirtioSerial, f *os.File, conn io.ReadWriteCloser) *portSession {
	return &portSession{v: v, f: f, conn: conn}
}

func (s *portSession) Read(p []byte) (int, error) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if s.stopped.Load() {
		return 0, net.ErrClosed
	}
	n, err := s.conn.Read(p)
	if n > 0 {
		s.readAny.Store(true)
	}
	return n, err
}

func (s *portSession) Write(p []byte) (int, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.stopped.Load() {
		return 0, net.ErrClosed
	}
	return s.conn.Write(p)
}

// ErrSessionEnded: Detach on a session that has ended already.
var ErrSessionEnded = errors.New("the session has ended")

func (s *portSession) Detach(final []byte) error {
	if s.stopped.Load() {
		return ErrSessionEnded
	}
	if err := s.f.SetReadDeadline(time.Now()); err != nil {
		return ErrNoDeadlines
	}
	s.final = append([]byte(nil), final...)
	s.detached.Store(true)
	s.stopped.Store(true)
	return nil
}

// Close ends the session's use of the port (see portSession); safe to call repeatedly.
func (s *portSession) Close() error {
	s.once.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *portSession) close() error {
	keep := s.detached.Load() || !s.readAny.Load()
	if keep {
		// Interrupt a blocked reader and writer without closing the port.
		past := time.Now()
		if s.f.SetReadDeadline(past) != nil || s.f.SetWriteDeadline(past) != nil {
			keep = false
		}
	}
	if !keep {
		s.stopped.Store(true)
		return s.conn.Close()
	}
	s.stopped.Store(true)
	s.readMu.Lock()
	s.writeMu.Lock()
	defer s.readMu.Unlock()
	defer s.writeMu.Unlock()
	var err error
	if s.detached.Load() && len(s.final) > 0 {
		_ = s.f.SetWriteDeadline(time.Now().Add(finalWriteBound))
		_, err = s.conn.Write(s.final)
	}
	_ = s.f.SetReadDeadline(time.Time{})
	_ = s.f.SetWriteDeadline(time.Time{})
	if err != nil {
		s.conn.Close()
		return err
	}
	s.v.keep(s.conn, s.f)
	return nil
}
