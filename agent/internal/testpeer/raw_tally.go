package testpeer

import (
	"hash"
	"hash/crc32"
	"io"
	"sync"
)

// rawTally counts what a raw stream read (with CRC-32) and wrote. Safe for one reader
// and one writer goroutine at a time.
type rawTally struct {
	mu      sync.Mutex
	read    uint64
	crc     hash.Hash32
	written uint64
}

func newRawTally() *rawTally { return &rawTally{crc: crc32.NewIEEE()} }

func (t *rawTally) addRead(b []byte) {
	t.mu.Lock()
	t.read += uint64(len(b))
	_, _ = t.crc.Write(b)
	t.mu.Unlock()
}

func (t *rawTally) addWritten(n int) {
	t.mu.Lock()
	t.written += uint64(n)
	t.mu.Unlock()
}

// outcome snapshots the counters with the given end.
func (t *rawTally) outcome(end, errText string) rawOutcome {
	t.mu.Lock()
	defer t.mu.Unlock()
	return rawOutcome{BytesRead: t.read, CRC32: t.crc.Sum32(), BytesWritten: t.written, End: end, Err: errText}
}

// countingWriter counts bytes written through it into a tally.
type countingWriter struct {
	w io.Writer
	t *rawTally
}

func (c countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.t.addWritten(n)
	return n, err
}

// drain reads r to its end, tallying every byte, and returns the error that ended it
// (nil for EOF).
func drain(r io.Reader, t *rawTally, bufSize int) error {
	buf := make([]byte, bufSize)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			t.addRead(buf[:n])
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
