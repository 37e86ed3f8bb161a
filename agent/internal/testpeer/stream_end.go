package testpeer

import (
	"errors"
	"io"

	"github.com/hashicorp/yamux"
)

// Stream end kinds reported by RawResult.
const (
	endEOF   = "eof"
	endReset = "reset"
	endError = "error"
)

// classifyEnd maps the error that ended a raw stream to an end kind and error text.
// yamux reports a dead session as EOF on its streams, so EOF counts as the peer's FIN
// only while the session is still up.
func classifyEnd(err error, sess *yamux.Session) (string, string) {
	switch {
	case err == nil || errors.Is(err, io.EOF):
		if sess != nil && sess.IsClosed() {
			return endError, "session closed"
		}
		return endEOF, ""
	case errors.Is(err, yamux.ErrConnectionReset):
		return endReset, err.Error()
	default:
		return endError, err.Error()
	}
}
