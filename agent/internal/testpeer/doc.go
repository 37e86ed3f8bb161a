// Package testpeer is vessel-testpeer: the Go reference peer for vessel's interop tests,
// built on the real github.com/hashicorp/yamux and github.com/containerd/ttrpc.
//
// Contract (the TypeScript mirror in test/interop must match it):
//
//   - server: one yamux server session per unix connection (or plain ttrpc with
//     --ttrpc-only). A session's first stream is the ttrpc control plane serving
//     vessel.test.v1.InteropTest; later streams are raw streams that open with a
//     uint32 big-endian length (1..1024) + id handshake, answered with the same id
//     (accept) or an error text (refusal, then FIN): "invalid stream id length: N",
//     "unknown stream mode", "malformed stream id", "duplicate stream id" (a NAME is
//     claimable once per session, whatever the mode).
//   - raw ids: echo:NAME, source:NAME:N, sink:NAME[:RATE], hold:NAME, close:NAME,
//     ttrpc:NAME. source data is math/rand seeded with FNV-1a-64(NAME); peers check
//     it by its CRC-32 trailer only.
//   - RawResult(NAME): bytes_read and crc32 cover what the stream read after the
//     handshake; bytes_written counts everything written after the handshake reply,
//     trailers included (source: N+4; sink and hold: 12); end is "eof" (the host's
//     FIN while the session lives), "reset" (yamux.ErrConnectionReset) or "error".
//     source and close streams end when the host FINs.
//   - Release of an unknown NAME is NOT_FOUND, of a non-hold stream FAILED_PRECONDITION.
//   - Echo/ServerStream never send a frame over ttrpc's 4 MiB limit: they answer
//     RESOURCE_EXHAUSTED instead (Go's ttrpc server would drop the connection).
//   - client: runs named checks (see checks in client.go) and prints one JSON line each.
//
// stdout carries only machine-readable lines (READY, check results, benchmark results);
// logs go to stderr.
package testpeer
