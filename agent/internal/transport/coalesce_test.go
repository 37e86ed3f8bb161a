package transport

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"
)

type recordingRWC struct {
	writes [][]byte
}

func (r *recordingRWC) Read([]byte) (int, error) { return 0, io.EOF }
func (r *recordingRWC) Close() error             { return nil }
func (r *recordingRWC) Write(p []byte) (int, error) {
	r.writes = append(r.writes, append([]byte(nil), p...))
	return len(p), nil
}

func header(typ byte, length uint32) []byte {
	h := make([]byte, 12)
	h[1] = typ
	binary.BigEndian.PutUint32(h[4:], 1)
	binary.BigEndian.PutUint32(h[8:], length)
	return h
}

func TestCoalesceJoinsDataHeaderWithBody(t *testing.T) {
	rec := &recordingRWC{}
	c := CoalesceFrames(rec)
	body := bytes.Repeat([]byte{7}, 100)
	if n, err := c.Write(header(0, 100)); n != 12 || err != nil {
		t.Fatalf("header write: %d %v", n, err)
	}
	if len(rec.writes) != 0 {
		t.Fatal("a data header that announces a body must wait for it")
	}
	if n, err := c.Write(body); n != 100 || err != nil {
		t.Fatalf("body write: %d %v", n, err)
	}
	if len(rec.writes) != 1 || !bytes.Equal(rec.writes[0], append(header(0, 100), body...)) {
		t.Fatalf("want one write of header+body, got %d writes", len(rec.writes))
	}
}

func TestCoalescePassesOtherFramesThrough(t *testing.T) {
	rec := &recordingRWC{}
	c := CoalesceFrames(rec)
	for _, h := range [][]byte{header(1, 262144), header(2, 5), header(0, 0)} { // window update, ping, empty data (FIN)
		if _, err := c.Write(h); err != nil {
			t.Fatal(err)
		}
	}
	if len(rec.writes) != 3 {
		t.Fatalf("control frames must go out at once: %d writes", len(rec.writes))
	}
	// a held header followed by something that is not its body: both go out unchanged
	_, _ = c.Write(header(0, 10))
	_, _ = c.Write([]byte("short"))
	if len(rec.writes) != 5 || !bytes.Equal(rec.writes[4], []byte("short")) {
		t.Fatalf("unexpected writes: %d", len(rec.writes))
	}
}
