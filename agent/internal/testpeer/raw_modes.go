package testpeer

import (
	"encoding/binary"
	"hash/crc32"
	"io"
	"log"
	"math/rand"
	"time"

	"github.com/hashicorp/yamux"
	"google.golang.org/grpc/status"
)

const (
	rawBufSize       = 32 << 10
	handshakeTimeout = 10 * time.Second
)

// rawSession is what the raw stream modes need from their yamux session.
type rawSession struct {
	sess   *yamux.Session
	reg    *rawRegistry
	ttrpcQ *connQueue // ttrpc:NAME streams go here
	logger *log.Logger
	// onClaimed, if set, is called after a raw stream is accepted (tests use it).
	onClaimed func(id string, sess *yamux.Session)
	// ignoreGoAwayMode: serve goaway:NAME as plain echo (tests of the client's checks).
	ignoreGoAwayMode bool
}

// serveRawStream runs the handshake on a non-first stream, then its mode.
func (rs *rawSession) serveRawStream(st *yamux.Stream) {
	_ = st.SetReadDeadline(time.Now().Add(handshakeTimeout))
	id, err := readHandshakeString(st)
	_ = st.SetReadDeadline(time.Time{})
	if err != nil {
		rs.refuse(st, err.Error())
		return
	}
	rid, err := parseRawID(id)
	if err != nil {
		rs.refuse(st, err.Error())
		return
	}
	entry, err := rs.reg.claim(rid.Name, rid.Mode == modeHold)
	if err != nil {
		rs.refuse(st, status.Convert(err).Message())
		return
	}
	tally := newRawTally()
	if rid.Mode == modeGoAway && !rs.ignoreGoAwayMode {
		// GoAway goes out before the handshake reply, so the host sees it first.
		_ = rs.sess.GoAway()
	}
	if err := writeHandshakeString(st, id); err != nil {
		end, text := classifyEnd(err, rs.sess)
		entry.finish(tally.outcome(end, text))
		_ = st.Close()
		return
	}
	if rs.onClaimed != nil {
		rs.onClaimed(id, rs.sess)
	}
	var end, text string
	switch rid.Mode {
	case modeEcho, modeGoAway:
		end, text = rs.echo(st, tally)
	case modeSource:
		end, text = rs.source(st, tally, rid.Name, rid.Arg)
	case modeSink:
		end, text = rs.sink(st, tally, rid.Arg)
	case modeHold:
		select {
		case <-entry.released:
			end, text = rs.sink(st, tally, 0)
		case <-rs.sess.CloseChan():
			end, text = endError, "session closed before Release"
		}
	case modeClose:
		_ = st.Close()
		end, text = classifyEnd(drain(st, tally, rawBufSize), rs.sess)
	case modeTTRPC:
		conn := newRecordingConn(st, tally, func(readErr error) {
			end, text := classifyEnd(readErr, rs.sess)
			entry.finish(tally.outcome(end, text))
		})
		if !rs.ttrpcQ.push(conn) {
			_ = conn.Close()
		}
		return
	}
	_ = st.Close()
	entry.finish(tally.outcome(end, text))
}

func (rs *rawSession) refuse(st *yamux.Stream, reason string) {
	rs.logger.Printf("raw stream %d refused: %s", st.StreamID(), reason)
	if len(reason) > maxRawIDLen {
		reason = reason[:maxRawIDLen]
	}
	_ = writeHandshakeString(st, reason)
	_ = st.Close()
}

// echo copies every byte back as it arrives; the caller FINs after the host's FIN.
func (rs *rawSession) echo(st *yamux.Stream, t *rawTally) (string, string) {
	buf := make([]byte, rawBufSize)
	w := countingWriter{w: st, t: t}
	for {
		n, err := st.Read(buf)
		if n > 0 {
			t.addRead(buf[:n])
			if _, werr := w.Write(buf[:n]); werr != nil {
				return classifyEnd(werr, rs.sess)
			}
		}
		if err != nil {
			return classifyEnd(err, rs.sess)
		}
	}
}

// source writes n bytes seeded from name, then their CRC-32, and drains what the host sends.
func (rs *rawSession) source(st *yamux.Stream, t *rawTally, name string, n uint64) (string, string) {
	drained := make(chan error, 1)
	go func() { drained <- drain(st, t, rawBufSize) }()

	rng := rand.New(rand.NewSource(nameSeed(name)))
	crc := crc32.NewIEEE()
	w := countingWriter{w: st, t: t}
	buf := make([]byte, rawBufSize)
	var werr error
	for left := n; left > 0 && werr == nil; {
		chunk := buf[:min(uint64(len(buf)), left)]
		_, _ = rng.Read(chunk)
		_, _ = crc.Write(chunk)
		_, werr = w.Write(chunk)
		left -= uint64(len(chunk))
	}
	if werr == nil {
		_, werr = w.Write(binary.BigEndian.AppendUint32(nil, crc.Sum32()))
	}
	_ = st.Close()
	rerr := <-drained
	if werr != nil {
		return classifyEnd(werr, rs.sess)
	}
	return classifyEnd(rerr, rs.sess)
}

// sink reads to EOF (at most rate bytes/second when rate > 0), then writes
// an 8-byte count and the 4-byte CRC-32 of what it read.
func (rs *rawSession) sink(st *yamux.Stream, t *rawTally, rate uint64) (string, string) {
	var rerr error
	if rate == 0 {
		rerr = drain(st, t, rawBufSize)
	} else {
		rerr = drainSlowly(st, t, rate)
	}
	if rerr != nil {
		return classifyEnd(rerr, rs.sess)
	}
	o := t.outcome("", "")
	summary := binary.BigEndian.AppendUint64(nil, o.BytesRead)
	summary = binary.BigEndian.AppendUint32(summary, o.CRC32)
	if _, err := (countingWriter{w: st, t: t}).Write(summary); err != nil {
		return classifyEnd(err, rs.sess)
	}
	return classifyEnd(nil, rs.sess)
}

// drainSlowly reads in small chunks, pacing itself to rate bytes/second.
func drainSlowly(r io.Reader, t *rawTally, rate uint64) error {
	chunk := max(min(rate/20, rawBufSize), 1)
	buf := make([]byte, chunk)
	start := time.Now()
	var total uint64
	for {
		n, err := r.Read(buf)
		if n > 0 {
			t.addRead(buf[:n])
			total += uint64(n)
			due := start.Add(time.Duration(float64(total) / float64(rate) * float64(time.Second)))
			if wait := time.Until(due); wait > 0 {
				time.Sleep(wait)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
