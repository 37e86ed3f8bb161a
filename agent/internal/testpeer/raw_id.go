package testpeer

import (
	"errors"
	"strconv"
	"strings"
)

// Raw stream modes, named by the first part of a raw stream id ("mode:NAME[:ARG]").
const (
	modeEcho   = "echo"
	modeSource = "source"
	modeSink   = "sink"
	modeHold   = "hold"
	modeClose  = "close"
	modeTTRPC  = "ttrpc"
	// modeGoAway: the server sends GoAway on its session, then serves the stream as echo.
	modeGoAway = "goaway"
)

var (
	errUnknownMode = errors.New("unknown stream mode")
	errMalformedID = errors.New("malformed stream id")
)

// rawID is a parsed raw stream id.
type rawID struct {
	Mode string
	Name string
	// Arg is N for source (bytes to send) and RATE for sink (bytes/second, 0 = unlimited).
	Arg uint64
}

// parseRawID parses "echo:NAME", "source:NAME:N", "sink:NAME", "sink:NAME:RATE",
// "hold:NAME", "close:NAME", "ttrpc:NAME" and "goaway:NAME". NAME is non-empty and has no ':'.
func parseRawID(id string) (rawID, error) {
	parts := strings.Split(id, ":")
	mode := parts[0]
	switch mode {
	case modeEcho, modeSource, modeSink, modeHold, modeClose, modeTTRPC, modeGoAway:
	default:
		return rawID{}, errUnknownMode
	}
	if len(parts) < 2 || parts[1] == "" {
		return rawID{}, errMalformedID
	}
	r := rawID{Mode: mode, Name: parts[1]}
	switch {
	case mode == modeSource && len(parts) == 3:
		n, err := strconv.ParseUint(parts[2], 10, 64)
		if err != nil {
			return rawID{}, errMalformedID
		}
		r.Arg = n
	case mode == modeSink && len(parts) == 3:
		n, err := strconv.ParseUint(parts[2], 10, 64)
		if err != nil || n == 0 {
			return rawID{}, errMalformedID
		}
		r.Arg = n
	case len(parts) == 2 && mode != modeSource:
	default:
		return rawID{}, errMalformedID
	}
	return r, nil
}
