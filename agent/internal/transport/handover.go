package transport

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DetachAck is what the agent writes, followed by the token, once it has read the
// host's token (agent.proto Detach).
const DetachAck = "vessel-detached\n"

// Detachable is a session's connection that can be handed over to the next session
// without closing the port (agent.proto Detach).
type Detachable interface {
	// Park stops delivering what the port receives to the session: a blocked read is
	// woken and every read waits from then on (the session stays up to send its replies).
	// Closing the connection then drops what the port holds up to and including token,
	// writes DetachAck and token, and keeps the port open for the next session. An error:
	// this connection cannot be handed over.
	Park(token []byte) error
}

// ErrNoDeadlines: the port cannot interrupt a blocked read without closing it.
var ErrNoDeadlines = errors.New("the port does not support deadlines: a session on it cannot be handed over")

// ErrSessionEnded: Park on a session that has ended (or was parked) already.
var ErrSessionEnded = errors.New("the session has ended")

// handoverBound bounds reading the host's token and writing the acknowledgement.
const handoverBound = 10 * time.Second

// portSession is one host session's use of a virtio-serial port. Closing it either
// closes the port (the session read something: what the host left unread is dropped with
// it, as virtio_console does on the next open) or, when the session read nothing or was
// parked for a handover, stops its reader and writer and keeps the port and its read
// buffer for the next session: virtio_console drops unread data when a port is opened, so
// reopening would lose the first bytes of a host that connected meanwhile (after a restore
// from a snapshot, a host connects at once).
type portSession struct {
	v    *VirtioSerial
	f    *os.File
	conn io.ReadWriteCloser

	readMu  sync.Mutex // held by Read: Close waits for the reader to leave
	writeMu sync.Mutex // held by Write: Close waits for the writer to leave
	stopped atomic.Bool
	readAny atomic.Bool
	parked  atomic.Bool
	closing chan struct{} // closed by Close: parked reads return
	token   []byte
	once    sync.Once
	err     error
}

func newPortSession(v *VirtioSerial, f *os.File, conn io.ReadWriteCloser) *portSession {
	return &portSession{v: v, f: f, conn: conn, closing: make(chan struct{})}
}

func (s *portSession) Read(p []byte) (int, error) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	for {
		if s.stopped.Load() {
			return 0, net.ErrClosed
		}
		if s.parked.Load() {
			<-s.closing
			return 0, net.ErrClosed
		}
		n, err := s.conn.Read(p)
		if n > 0 {
			s.readAny.Store(true)
			return n, err
		}
		if err != nil && errors.Is(err, os.ErrDeadlineExceeded) && s.parked.Load() {
			_ = s.f.SetReadDeadline(time.Time{})
			continue // woken to park
		}
		return n, err
	}
}

func (s *portSession) Write(p []byte) (int, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.stopped.Load() {
		return 0, net.ErrClosed
	}
	return s.conn.Write(p)
}

func (s *portSession) Park(token []byte) error {
	if s.stopped.Load() || s.parked.Load() {
		return ErrSessionEnded
	}
	s.token = append([]byte(nil), token...)
	s.parked.Store(true)
	if err := s.f.SetReadDeadline(time.Now()); err != nil { // wake a blocked read
		s.parked.Store(false)
		return ErrNoDeadlines
	}
	return nil
}

// Close ends the session's use of the port (see portSession); safe to call repeatedly.
func (s *portSession) Close() error {
	s.once.Do(func() { s.err = s.close() })
	return s.err
}

func (s *portSession) close() error {
	parked := s.parked.Load()
	keep := parked || !s.readAny.Load()
	if keep {
		// Interrupt a blocked reader and writer without closing the port.
		past := time.Now()
		if s.f.SetReadDeadline(past) != nil || s.f.SetWriteDeadline(past) != nil {
			keep = false
		}
	}
	s.stopped.Store(true)
	close(s.closing)
	if !keep {
		return s.conn.Close()
	}
	s.readMu.Lock()
	s.writeMu.Lock()
	defer s.readMu.Unlock()
	defer s.writeMu.Unlock()
	_ = s.f.SetReadDeadline(time.Time{})
	_ = s.f.SetWriteDeadline(time.Time{})
	if parked {
		if err := s.handOver(); err != nil {
			s.conn.Close()
			return err
		}
	}
	s.v.keep(s.conn, s.f)
	return nil
}

// handOver drops what the port holds up to and including the token, one byte at a time
// (the bytes after it stay buffered for the next session), and acknowledges it.
func (s *portSession) handOver() error {
	deadline := time.Now().Add(handoverBound)
	_ = s.f.SetReadDeadline(deadline)
	_ = s.f.SetWriteDeadline(deadline)
	defer s.f.SetReadDeadline(time.Time{})
	defer s.f.SetWriteDeadline(time.Time{})
	window := make([]byte, 0, len(s.token))
	b := make([]byte, 1)
	for !bytes.Equal(window, s.token) {
		if _, err := io.ReadFull(s.conn, b); err != nil {
			return err
		}
		if len(window) == len(s.token) {
			window = append(window[:0], window[1:]...)
		}
		window = append(window, b[0])
	}
	_, err := s.conn.Write(append([]byte(DetachAck), s.token...))
	return err
}
