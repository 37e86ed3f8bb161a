package testpeer

import (
	"encoding/binary"
	"net"
	"sync"
)

// yamux framing, as far as goAwayWatch needs it.
const (
	yamuxHeaderLen  = 12
	yamuxTypeData   = 0
	yamuxTypeGoAway = 3
)

// goAwayWatch sits between a yamux session and its connection and follows the frames
// the session reads, so a check can wait for the peer's GoAway as an event (yamux has
// no API for it). Seen() closes at the first Read after the one that completed a
// GoAway header: yamux reads its connection from one goroutine and handles each frame
// before reading on, so by then OpenStream already returns ErrRemoteGoAway.
type goAwayWatch struct {
	net.Conn

	// Read-side state, touched only by the session's reader goroutine.
	hdr     [yamuxHeaderLen]byte
	hdrFill int
	skip    uint32 // data frame body bytes still to pass
	pending bool   // a GoAway header has been read, not yet handled by yamux

	seen     chan struct{}
	seenOnce sync.Once
}

func newGoAwayWatch(c net.Conn) *goAwayWatch {
	return &goAwayWatch{Conn: c, seen: make(chan struct{})}
}

// Seen is closed once the session has handled a GoAway from the peer.
func (w *goAwayWatch) Seen() <-chan struct{} { return w.seen }

func (w *goAwayWatch) Read(b []byte) (int, error) {
	if w.pending {
		w.seenOnce.Do(func() { close(w.seen) })
	}
	n, err := w.Conn.Read(b)
	w.follow(b[:n])
	return n, err
}

// follow advances the frame parser over bytes the session just read.
func (w *goAwayWatch) follow(p []byte) {
	for len(p) > 0 {
		if w.skip > 0 {
			k := uint32(len(p))
			if k > w.skip {
				k = w.skip
			}
			w.skip -= k
			p = p[k:]
			continue
		}
		k := copy(w.hdr[w.hdrFill:], p)
		w.hdrFill += k
		p = p[k:]
		if w.hdrFill < yamuxHeaderLen {
			return
		}
		w.hdrFill = 0
		switch w.hdr[1] {
		case yamuxTypeData:
			w.skip = binary.BigEndian.Uint32(w.hdr[8:12])
		case yamuxTypeGoAway:
			w.pending = true
		}
	}
}
