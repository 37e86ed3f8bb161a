package testpeer

import (
	"errors"
	"io"
	"net"
	"sync"
)

var errClosedBeforeFIN = errors.New("closed by the ttrpc server before the peer's FIN")

// recordingConn wraps a raw ttrpc:NAME stream handed to the ttrpc server: it tallies
// the bytes, remembers the first read error, and reports it once the server closes it.
type recordingConn struct {
	net.Conn
	tally   *rawTally
	onClose func(readErr error)

	mu      sync.Mutex
	readErr error
	once    sync.Once
}

func newRecordingConn(c net.Conn, t *rawTally, onClose func(readErr error)) *recordingConn {
	return &recordingConn{Conn: c, tally: t, onClose: onClose}
}

func (c *recordingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.tally.addRead(b[:n])
	}
	if err != nil {
		c.mu.Lock()
		if c.readErr == nil {
			c.readErr = err
		}
		c.mu.Unlock()
	}
	return n, err
}

func (c *recordingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.tally.addWritten(n)
	return n, err
}

func (c *recordingConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.mu.Lock()
		readErr := c.readErr
		c.mu.Unlock()
		switch readErr {
		case io.EOF:
			readErr = nil
		case nil:
			readErr = errClosedBeforeFIN
		}
		c.onClose(readErr)
	})
	return err
}
