package transport

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestPortConnRoundTripsThroughPipes(t *testing.T) {
	// host→agent pipe and agent→host pipe; the agent side is a PortConn over each end
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer inW.Close()
	defer outR.Close()
	rc, ok := NewPortConn(inR).(*PortConn)
	if !ok {
		t.Fatal("a pollable pipe must get a PortConn")
	}
	wc, ok := NewPortConn(outW).(*PortConn)
	if !ok {
		t.Fatal("a pollable pipe must get a PortConn")
	}

	data := make([]byte, 300<<10+7) // several 32 KiB write segments, an odd tail
	for i := range data {
		data[i] = byte(i * 7)
	}
	go func() {
		_, _ = inW.Write(data)
		inW.Close()
	}()
	// Read in odd sizes, echo through the writer.
	done := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(outR)
		done <- b
	}()
	buf := make([]byte, 5000)
	for {
		n, err := rc.Read(buf)
		if n > 0 {
			if _, werr := wc.Write(buf[:n]); werr != nil {
				t.Fatal(werr)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	big := bytes.Repeat([]byte{9}, 100<<10) // one Write spanning several iovecs
	if n, err := wc.Write(big); n != len(big) || err != nil {
		t.Fatalf("big write: %d %v", n, err)
	}
	wc.Close()
	got := <-done
	if !bytes.Equal(got, append(append([]byte(nil), data...), big...)) {
		t.Fatalf("bytes differ: got %d, want %d", len(got), len(data)+len(big))
	}
	if n, err := rc.Read(nil); n != 0 || err != nil {
		t.Fatalf("empty read: %d %v", n, err)
	}
	rc.Close()
	if _, err := rc.Read(buf); err == nil {
		t.Fatal("read after close must fail")
	}
}

func TestPortConnFallsBackForBlockingFiles(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "plain"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if c := NewPortConn(f); c != io.ReadWriteCloser(f) {
		t.Fatalf("a regular file (not non-blocking) must be returned as is, got %T", c)
	}
}
