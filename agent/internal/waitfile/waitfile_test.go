package waitfile

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func waitAsync(path string, stop <-chan struct{}) (<-chan []byte, <-chan error) {
	got, errs := make(chan []byte, 1), make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		b, err := Wait(ctx, path, stop, 1<<10)
		got <- b
		errs <- err
	}()
	return got, errs
}

func TestRenamedIntoPlace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ready")
	got, errs := waitAsync(path, nil)
	// another file renamed in the same directory does not end the wait
	for _, name := range []string{"other", "ready"} {
		tmp := filepath.Join(dir, ".tmp")
		if err := os.WriteFile(tmp, []byte("hello "+name), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if b, err := <-got, <-errs; err != nil || string(b) != "hello ready" {
		t.Fatalf("%q %v", b, err)
	}
}

func TestDirectoryRemoved(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	got, errs := waitAsync(filepath.Join(dir, "never"), nil)
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := <-got, <-errs; !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("want ErrNotExist, got %v", err)
	}
}

func TestStopped(t *testing.T) {
	stop := make(chan struct{})
	got, errs := waitAsync(filepath.Join(t.TempDir(), "never"), stop)
	close(stop)
	if _, err := <-got, <-errs; !errors.Is(err, ErrStopped) {
		t.Fatalf("want ErrStopped, got %v", err)
	}
}
