package testpeer

import (
	"net"
	"sync"
)

// goAwayWatch sits between a yamux session and its connection and follows the frames
// the session reads, so a check can wait for the peer's GoAway as an event (yamux has
// no API for it). Seen() closes at the first Read after the one that completed a
// GoAway header: yamux reads its connection from one goroutine and handles each frame
// before reading on, so by then OpenStream already returns ErrRemoteGoAway.
type goAwayWatch struct {
	net.Conn

	frames  yamuxFrameFollower // touched only by the session's reader goroutine
	pending bool               // a GoAway header was read, not yet handled by yamux

	seen     chan struct{}
	seenOnce sync.Once
}

func newGoAwayWatch(c net.Conn) *goAwayWatch {
	w := &goAwayWatch{Conn: c, seen: make(chan struct{})}
	w.frames.onHeader = func(h yamuxHeader) {
		if h.Type() == yamuxTypeGoAway {
			w.pending = true
		}
	}
	return w
}

// Seen is closed once the session has handled a GoAway from the peer.
func (w *goAwayWatch) Seen() <-chan struct{} { return w.seen }

func (w *goAwayWatch) Read(b []byte) (int, error) {
	if w.pending {
		w.seenOnce.Do(func() { close(w.seen) })
	}
	n, err := w.Conn.Read(b)
	w.frames.follow(b[:n])
	return n, err
}
