package testpeer

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestParseRawID(t *testing.T) {
	good := map[string]rawID{
		"echo:a":          {Mode: modeEcho, Name: "a"},
		"source:s1:8":     {Mode: modeSource, Name: "s1", Arg: 8},
		"source:z:0":      {Mode: modeSource, Name: "z"},
		"sink:k":          {Mode: modeSink, Name: "k"},
		"sink:k:1024":     {Mode: modeSink, Name: "k", Arg: 1024},
		"hold:h":          {Mode: modeHold, Name: "h"},
		"close:c":         {Mode: modeClose, Name: "c"},
		"ttrpc:with spce": {Mode: modeTTRPC, Name: "with spce"},
	}
	for id, want := range good {
		got, err := parseRawID(id)
		if err != nil || got != want {
			t.Errorf("parseRawID(%q) = %+v, %v; want %+v", id, got, err, want)
		}
	}
	bad := map[string]error{
		"nope:x":        errUnknownMode,
		"":              errUnknownMode,
		"echo":          errMalformedID,
		"echo:":         errMalformedID,
		"echo:a:b":      errMalformedID,
		"source:s":      errMalformedID,
		"source:s:-1":   errMalformedID,
		"source:s:1:2":  errMalformedID,
		"sink:k:0":      errMalformedID,
		"sink:k:fast":   errMalformedID,
		"hold:h:1":      errMalformedID,
		"ttrpc:t:extra": errMalformedID,
	}
	for id, want := range bad {
		if _, err := parseRawID(id); !errors.Is(err, want) {
			t.Errorf("parseRawID(%q) error = %v, want %v", id, err, want)
		}
	}
}

func TestHandshakeStringBounds(t *testing.T) {
	var b bytes.Buffer
	if err := writeHandshakeString(&b, "echo:x"); err != nil {
		t.Fatal(err)
	}
	if s, err := readHandshakeString(&b); err != nil || s != "echo:x" {
		t.Fatalf("round trip: %q, %v", s, err)
	}
	for _, n := range []uint32{0, maxRawIDLen + 1, 0xffffffff} {
		// Only the length prefix is present: a refusal must not wait for (or allocate) a body.
		r := bytes.NewReader(binary.BigEndian.AppendUint32(nil, n))
		if _, err := readHandshakeString(r); !errors.Is(err, errBadIDLength) {
			t.Errorf("length %d: got %v, want errBadIDLength", n, err)
		}
	}
	full := append(binary.BigEndian.AppendUint32(nil, maxRawIDLen), bytes.Repeat([]byte{'a'}, maxRawIDLen)...)
	if s, err := readHandshakeString(bytes.NewReader(full)); err != nil || len(s) != maxRawIDLen {
		t.Errorf("length %d: %d bytes, %v", maxRawIDLen, len(s), err)
	}
}

func TestRawRegistry(t *testing.T) {
	reg := newRawRegistry()
	e, err := reg.claim("a", true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.claim("a", false); status.Code(err) != codes.AlreadyExists {
		t.Fatalf("second claim: %v", err)
	}
	if err := reg.release("missing"); status.Code(err) != codes.NotFound {
		t.Fatalf("release missing: %v", err)
	}
	if err := reg.release("a"); err != nil {
		t.Fatalf("release a: %v", err)
	}
	select {
	case <-e.released:
	default:
		t.Fatal("release did not signal the hold stream")
	}
	if _, err := reg.claim("plain", false); err != nil {
		t.Fatal(err)
	}
	if err := reg.release("plain"); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("release of a non-hold stream: %v", err)
	}

	// A name waited on before it is claimed is still claimable, and the waiter sees its end.
	got := make(chan rawOutcome, 1)
	go func() {
		o, err := reg.wait(context.Background(), "later")
		if err != nil {
			t.Error(err)
		}
		got <- o
	}()
	later, err := reg.claim("later", false)
	if err != nil {
		t.Fatal(err)
	}
	later.finish(rawOutcome{BytesRead: 3, End: endEOF})
	later.finish(rawOutcome{BytesRead: 99, End: endError})
	if o := <-got; o.BytesRead != 3 || o.End != endEOF {
		t.Fatalf("waiter got %+v", o)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := reg.wait(ctx, "never"); status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("wait for a name that never ends: %v", err)
	}
}

func TestRawRegistryBoundsNames(t *testing.T) {
	reg := newRawRegistry()
	for i := 0; i < maxRawNames; i++ {
		if _, err := reg.claim(string(rune('a'+i%26))+string(binary.BigEndian.AppendUint32(nil, uint32(i))), false); err != nil {
			t.Fatalf("claim %d: %v", i, err)
		}
	}
	if _, err := reg.claim("one-more", false); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("claim past the limit: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := reg.wait(ctx, "unknown"); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("wait past the limit: %v", err)
	}
}

// yamuxFrame encodes a yamux header (and body for data frames).
func yamuxFrame(typ uint8, streamID uint32, length uint32, body []byte) []byte {
	h := []byte{0, typ, 0, 0}
	h = binary.BigEndian.AppendUint32(h, streamID)
	h = binary.BigEndian.AppendUint32(h, length)
	return append(h, body...)
}

func TestGoAwayWatchFollowsFrames(t *testing.T) {
	// A data frame whose body looks like a GoAway header must not trigger the watch.
	fake := yamuxFrame(yamuxTypeGoAway, 0, 0, nil)
	stream := append(yamuxFrame(yamuxTypeData, 1, uint32(len(fake)), fake), yamuxFrame(1, 1, 1024, nil)...)
	stream = append(stream, yamuxFrame(2, 0, 7, nil)...) // ping
	goAway := yamuxFrame(yamuxTypeGoAway, 0, 0, nil)

	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	w := newGoAwayWatch(a)
	go func() {
		// Byte-sized writes split every header across reads.
		for _, c := range append(stream, goAway...) {
			if _, err := b.Write([]byte{c}); err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 1)
	for i := 0; i < len(stream)+len(goAway); i++ {
		select {
		case <-w.Seen():
			t.Fatalf("GoAway reported after %d of %d bytes", i, len(stream)+len(goAway))
		default:
		}
		if _, err := w.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	// The GoAway counts as handled at the next Read.
	go func() { _, _ = b.Write([]byte{0}) }()
	if _, err := w.Read(buf); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.Seen():
	default:
		t.Fatal("GoAway not reported")
	}
}
