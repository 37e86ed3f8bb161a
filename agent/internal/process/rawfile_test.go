package process

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestRawFilePipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	rr, ok := newRawFile(r).(*rawFile)
	if !ok {
		t.Fatal("pipe read end must get a rawFile")
	}
	rw, ok := newRawFile(w).(*rawFile)
	if !ok {
		t.Fatal("pipe write end must get a rawFile")
	}
	data := make([]byte, 1<<20+3) // more than a pipe holds: the writer waits in the poller
	for i := range data {
		data[i] = byte(i * 13)
	}
	go func() {
		if n, err := rw.Write(data); n != len(data) || err != nil {
			t.Errorf("write: %d %v", n, err)
		}
		w.Close()
	}()
	got, err := io.ReadAll(rr)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, err %v", len(got), err)
	}
	if _, err := rw.Write([]byte("x")); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	r.Close()
	if _, err := rr.Read(make([]byte, 8)); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
}

func TestRawFileBrokenPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r.Close()
	if _, err := newRawFile(w).Write([]byte("x")); err == nil {
		t.Fatal("write to a pipe without reader must fail (EPIPE)")
	}
}

func TestRawFileFallsBackForBlockingFiles(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "plain"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if rw := newRawFile(f); rw != io.ReadWriter(f) {
		t.Fatalf("got %T", rw)
	}
}
