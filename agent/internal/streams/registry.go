// Package streams is the agent's registry of raw byte streams opened by the host.
//
// Contract (see docs/architecture.md): on a yamux session the host's FIRST stream is the
// ttrpc control plane; every later stream starts with a handshake — uint32 big-endian
// length (1..1024) + id bytes. The agent answers with the same length-prefixed id to
// accept, or with a length-prefixed error text to refuse and then closes the stream.
// Accepted streams are parked until claimed once by id (Registry.Claim, used by Exec
// stdio); unclaimed streams are closed after Options.Expiry (60 s). Ids of the form
// "tcp:PORT" and "unix:/PATH" are claimed by built-in claimers that dial 127.0.0.1:PORT
// or the guest unix socket BEFORE accepting (a failed dial is the refusal text) and
// then join both directions. Ids are unique among parked and claimed-but-open streams
// (built-in claimer ids are not tracked: one port may be forwarded many times).
package streams

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/yamux"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// MaxIDLen bounds a stream id (and a handshake reply) in bytes.
const MaxIDLen = 1024

// Errors returned by Claim. They carry ttrpc status codes.
var (
	ErrStreamTimeout  = status.Error(codes.DeadlineExceeded, "stream did not arrive in time")
	ErrAlreadyClaimed = status.Error(codes.AlreadyExists, "stream id already claimed")
	ErrInvalidID      = status.Error(codes.InvalidArgument, "invalid stream id")
)

// Refusal texts sent to the host in the handshake.
const (
	refuseDuplicate = "duplicate stream id"
	refuseFull      = "too many unclaimed streams"
)

// Options tune a Registry; zero values take the defaults.
type Options struct {
	Expiry           time.Duration // unclaimed streams are closed after this (60 s)
	MaxUnclaimed     int           // parked streams at most (1024); more are refused
	HandshakeTimeout time.Duration // for the host to send the id (10 s)
	DialTimeout      time.Duration // built-in claimers (5 s)
	Logf             func(format string, args ...any)
	// Dial is used by the built-in claimers; default net.Dialer.DialContext.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Registry holds the accepted raw streams of all sessions by id. Safe for concurrent use.
type Registry struct {
	opts Options

	mu      sync.Mutex
	parked  map[string]*parkedEntry // accepted, waiting to be claimed
	claimed map[string]struct{}     // handed out and not yet closed
	waiters map[string]chan *Stream // Claim called before arrival
}

type parkedEntry struct {
	s     *Stream
	owner any // the session, to drop its streams when it ends
	timer *time.Timer
}

// New returns an empty registry.
func New(opts Options) *Registry {
	if opts.Expiry <= 0 {
		opts.Expiry = 60 * time.Second
	}
	if opts.MaxUnclaimed <= 0 {
		opts.MaxUnclaimed = 1024
	}
	if opts.HandshakeTimeout <= 0 {
		opts.HandshakeTimeout = 10 * time.Second
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 5 * time.Second
	}
	if opts.Logf == nil {
		opts.Logf = log.Printf
	}
	if opts.Dial == nil {
		d := &net.Dialer{}
		opts.Dial = d.DialContext
	}
	return &Registry{
		opts:    opts,
		parked:  make(map[string]*parkedEntry),
		claimed: make(map[string]struct{}),
		waiters: make(map[string]chan *Stream),
	}
}

// Claim returns the stream registered under id, waiting up to wait for it to arrive.
// Each arrived stream can be claimed once (ErrAlreadyClaimed while it is claimed and
// open, or while another Claim waits for the id); ErrStreamTimeout if it never arrives;
// ctx's error if ctx ends first. The result is a *Stream (it has CloseWrite).
func (r *Registry) Claim(ctx context.Context, id string, wait time.Duration) (io.ReadWriteCloser, error) {
	if len(id) == 0 || len(id) > MaxIDLen {
		return nil, ErrInvalidID
	}
	r.mu.Lock()
	if e, ok := r.parked[id]; ok {
		delete(r.parked, id)
		e.timer.Stop()
		r.claimed[id] = struct{}{}
		r.mu.Unlock()
		return e.s, nil
	}
	if _, ok := r.claimed[id]; ok {
		r.mu.Unlock()
		return nil, ErrAlreadyClaimed
	}
	if _, ok := r.waiters[id]; ok {
		r.mu.Unlock()
		return nil, ErrAlreadyClaimed
	}
	ch := make(chan *Stream, 1)
	r.waiters[id] = ch
	r.mu.Unlock()

	t := time.NewTimer(wait)
	defer t.Stop()
	var err error
	select {
	case s := <-ch:
		return s, nil
	case <-t.C:
		err = ErrStreamTimeout
	case <-ctx.Done():
		err = ctx.Err()
	}
	// Gave up; the stream may have been delivered meanwhile (delivery holds r.mu).
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case s := <-ch:
		return s, nil
	default:
	}
	if r.waiters[id] == ch {
		delete(r.waiters, id)
	}
	return nil, err
}

// Unclaimed reports how many accepted streams wait to be claimed.
func (r *Registry) Unclaimed() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.parked)
}

// ServeSession accepts the host's streams on sess until the session ends: the first
// goes to control (called in its own goroutine, e.g. a ttrpc server), each later one
// through the handshake. When the session ends, its parked streams are dropped.
// It returns the error that ended Accept.
func (r *Registry) ServeSession(sess *yamux.Session, control func(net.Conn)) error {
	defer r.dropOwner(sess)
	first := true
	for {
		c, err := sess.Accept()
		if err != nil {
			return err
		}
		if first {
			first = false
			go control(c)
			continue
		}
		go r.handle(sess, c)
	}
}

func (r *Registry) dropOwner(owner any) {
	r.mu.Lock()
	var drop []*Stream
	for id, e := range r.parked {
		if e.owner == owner {
			e.timer.Stop()
			delete(r.parked, id)
			drop = append(drop, e.s)
		}
	}
	r.mu.Unlock()
	for _, s := range drop {
		s.release = nil
		_ = s.Close()
	}
}

// handle runs the handshake on one raw stream and hands it on.
func (r *Registry) handle(owner any, c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(r.opts.HandshakeTimeout))
	id, err := ReadHandshake(c)
	if err != nil {
		r.opts.Logf("stream handshake: %v", err)
		if errors.Is(err, ErrBadLength) {
			refuse(c, "", err.Error())
			return
		}
		_ = c.Close()
		return
	}
	_ = c.SetReadDeadline(time.Time{})

	if kind, addr, ok := builtin(id); ok {
		r.join(c, id, kind, addr)
		return
	}

	r.mu.Lock()
	if r.isLiveLocked(id) {
		r.mu.Unlock()
		refuse(c, id, refuseDuplicate)
		return
	}
	ch, waiting := r.waiters[id]
	if !waiting && len(r.parked) >= r.opts.MaxUnclaimed {
		r.mu.Unlock()
		refuse(c, id, refuseFull)
		return
	}
	s := &Stream{conn: c, id: id}
	s.release = func() { r.releaseClaimed(id, s) }
	// Accept while holding the lock so that a claimant never writes to the stream
	// before the handshake reply. The write is small; yamux queues it.
	if err := WriteHandshake(c, id); err != nil {
		r.mu.Unlock()
		_ = c.Close()
		return
	}
	if waiting {
		delete(r.waiters, id)
		r.claimed[id] = struct{}{}
		ch <- s
		r.mu.Unlock()
		return
	}
	e := &parkedEntry{s: s, owner: owner}
	e.timer = time.AfterFunc(r.opts.Expiry, func() { r.expire(id, e) })
	r.parked[id] = e
	r.mu.Unlock()
}

func (r *Registry) isLiveLocked(id string) bool {
	if _, ok := r.parked[id]; ok {
		return true
	}
	_, ok := r.claimed[id]
	return ok
}

func (r *Registry) expire(id string, e *parkedEntry) {
	r.mu.Lock()
	if r.parked[id] != e {
		r.mu.Unlock()
		return
	}
	delete(r.parked, id)
	r.mu.Unlock()
	r.opts.Logf("stream %q was not claimed in %v; closing it", id, r.opts.Expiry)
	e.s.release = nil
	_ = e.s.Close()
}

// releaseClaimed frees id when the stream handed out for it is closed.
func (r *Registry) releaseClaimed(id string, s *Stream) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.parked[id]; ok && e.s == s {
		e.timer.Stop()
		delete(r.parked, id)
		return
	}
	delete(r.claimed, id)
}

// builtin recognises the ids served by built-in claimers.
func builtin(id string) (network, addr string, ok bool) {
	switch {
	case strings.HasPrefix(id, "tcp:"):
		return "tcp", strings.TrimPrefix(id, "tcp:"), true
	case strings.HasPrefix(id, "unix:"):
		return "unix", strings.TrimPrefix(id, "unix:"), true
	}
	return "", "", false
}

// join dials the forwarding target, accepts or refuses the handshake, and copies both
// ways until both directions ended.
func (r *Registry) join(c net.Conn, id, network, addr string) {
	switch network {
	case "tcp":
		port, err := strconv.ParseUint(addr, 10, 16)
		if err != nil || port == 0 || addr != strconv.FormatUint(port, 10) {
			refuse(c, id, fmt.Sprintf("invalid tcp port %q", addr))
			return
		}
		addr = net.JoinHostPort("127.0.0.1", addr)
	case "unix":
		if !strings.HasPrefix(addr, "/") || strings.ContainsRune(addr, 0) {
			refuse(c, id, fmt.Sprintf("invalid unix socket path %q", addr))
			return
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.opts.DialTimeout)
	target, err := r.opts.Dial(ctx, network, addr)
	cancel()
	if err != nil {
		refuse(c, id, err.Error())
		return
	}
	if err := WriteHandshake(c, id); err != nil {
		_ = target.Close()
		_ = c.Close()
		return
	}
	s := &Stream{conn: c, id: id}
	Join(s, target)
}

// Join copies a→b and b→a. When one direction reaches EOF, the other side's write
// half is closed (CloseWrite when it has one); when both directions ended — or one
// failed — both are closed.
func Join(a, b io.ReadWriteCloser) {
	var wg sync.WaitGroup
	var once sync.Once
	closeBoth := func() {
		once.Do(func() {
			_ = a.Close()
			_ = b.Close()
		})
	}
	pipe := func(dst, src io.ReadWriteCloser) {
		defer wg.Done()
		_, err := io.Copy(dst, src)
		if err != nil {
			closeBoth()
			return
		}
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			if cw.CloseWrite() == nil {
				return
			}
		}
		closeBoth()
	}
	wg.Add(2)
	go pipe(a, b)
	go pipe(b, a)
	wg.Wait()
	closeBoth()
}

// ErrBadLength: a handshake string's length prefix is 0 or above MaxIDLen.
var ErrBadLength = errors.New("invalid stream id length")

// ReadHandshake reads one uint32 big-endian length-prefixed string (1..MaxIDLen bytes),
// refusing a bad length before reading the body.
func ReadHandshake(r io.Reader) (string, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return "", err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || n > MaxIDLen {
		return "", fmt.Errorf("%w: %d", ErrBadLength, n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", err
	}
	return string(buf), nil
}

// WriteHandshake writes s with its uint32 big-endian length prefix in one write.
func WriteHandshake(w io.Writer, s string) error {
	buf := make([]byte, 4+len(s))
	binary.BigEndian.PutUint32(buf, uint32(len(s)))
	copy(buf[4:], s)
	_, err := w.Write(buf)
	return err
}

// refuse answers the handshake with an error text (never equal to id, which would read
// as acceptance) and closes the stream.
func refuse(c net.Conn, id, text string) {
	if text == id {
		text = "refused: " + text
	}
	if len(text) > MaxIDLen {
		text = text[:MaxIDLen]
	}
	_ = WriteHandshake(c, text)
	s := &Stream{conn: c, id: id}
	_ = s.Close()
}
