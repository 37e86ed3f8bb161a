package process

import (
	"errors"
	"io"
	"log"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// copyBufSize is how much one stdin/stdout copy moves per read and write (see
// streamPipeSize); well below the pipe's capacity, so the process and the copy both
// make progress without the pipe running dry or full on every call.
const copyBufSize = 128 << 10

// stream is one claimed stream, possibly serving several roles.
type stream struct {
	id      string
	rwc     io.ReadWriteCloser
	mu      sync.Mutex
	writers int // stdout/stderr roles not yet at EOF
}

// doneWriting is called by each output copy at EOF; the last one sends FIN.
func (s *stream) doneWriting(l *log.Logger) {
	s.mu.Lock()
	s.writers--
	last := s.writers == 0
	s.mu.Unlock()
	if !last {
		return
	}
	if cw, ok := s.rwc.(interface{ CloseWrite() error }); ok {
		if err := cw.CloseWrite(); err != nil {
			l.Printf("stream %q: close write: %v", s.id, err)
		}
	}
}

type outCopy struct {
	src *os.File // pipe read end, or the pty master
	dst *stream  // nil: discard
	pty bool
}

// copyOut drains src into the stream until EOF (EIO on a pty master whose slave side
// is closed), then ends the stream's write side. A failing stream is drained to nowhere.
func (m *Manager) copyOut(p *proc, o outCopy) {
	buf := make([]byte, copyBufSize)
	writeOK := o.dst != nil
	src := newRawFile(o.src)
	for {
		n, err := src.Read(buf)
		if n > 0 && writeOK {
			if _, werr := o.dst.rwc.Write(buf[:n]); werr != nil {
				m.log.Printf("exec %q: stream %q write: %v (discarding further output)", p.id, o.dst.id, werr)
				writeOK = false
			}
		}
		if err != nil {
			if err != io.EOF && !(o.pty && errors.Is(err, unix.EIO)) {
				m.log.Printf("exec %q: output read: %v", p.id, err)
			}
			break
		}
	}
	if !o.pty { // the master is closed by supervise, after every copy ended
		o.src.Close()
	}
	if o.dst != nil {
		o.dst.doneWriting(m.log)
	}
}

// copyIn copies the stdin stream to the process until the stream ends (then stdin is
// closed) and discards what arrives after stdin was closed.
func (m *Manager) copyIn(p *proc, s *stream) {
	buf := make([]byte, copyBufSize)
	for {
		n, err := s.rwc.Read(buf)
		if n > 0 {
			p.stdinMu.Lock()
			closed := p.stdinClosed
			p.stdinMu.Unlock()
			if !closed {
				// Not under stdinMu: the write may block while the process does not read,
				// and CloseStdin must still be able to close the pipe under it.
				if _, werr := p.stdin.Write(buf[:n]); werr != nil && !errors.Is(werr, os.ErrClosed) {
					m.log.Printf("exec %q: stdin write: %v", p.id, werr)
				}
			}
		}
		if err != nil {
			break
		}
	}
	p.closeStdin()
}
