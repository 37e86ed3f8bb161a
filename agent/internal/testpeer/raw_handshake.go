package testpeer

import (
	"fmt"
	"io"

	"vessel.dev/agent/internal/streams"
)

// The handshake codec is the agent's own (internal/streams), so the reference peer and
// the agent cannot drift apart.
const maxRawIDLen = streams.MaxIDLen

var (
	errBadIDLength       = streams.ErrBadLength
	readHandshakeString  = streams.ReadHandshake
	writeHandshakeString = streams.WriteHandshake
)

// claimRawStream is the opening side of the handshake: send id, expect it echoed back.
// A different reply is the peer's refusal; it is returned as the error text.
func claimRawStream(rw io.ReadWriter, id string) error {
	if err := writeHandshakeString(rw, id); err != nil {
		return fmt.Errorf("send stream id: %w", err)
	}
	reply, err := readHandshakeString(rw)
	if err != nil {
		return fmt.Errorf("read handshake reply: %w", err)
	}
	if reply != id {
		return fmt.Errorf("stream %q refused: %s", id, reply)
	}
	return nil
}
