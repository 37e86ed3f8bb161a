package testpeer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"testing"
)

// startMainServer runs `server` through Main and waits for its READY line.
func startMainServer(t *testing.T, extra ...string) (string, func() int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cli.sock")
	ctx, cancel := context.WithCancel(context.Background())
	out, outW := io.Pipe()
	code := make(chan int, 1)
	go func() {
		code <- Main(ctx, append([]string{"server", "--listen", path}, extra...), outW, io.Discard)
		_ = outW.Close()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "READY\n" {
		cancel()
		t.Fatalf("first stdout line %q, %v; want READY", line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	stop := func() int {
		cancel()
		return <-code
	}
	t.Cleanup(func() { cancel() })
	return path, stop
}

func TestMainServerAndClient(t *testing.T) {
	for _, mode := range [][]string{nil, {"--ttrpc-only"}} {
		path, stop := startMainServer(t, append([]string{"--window", "1048576", "--keepalive-ms", "1000", "--accept-backlog", "16", "--stream-close-timeout-ms", "5000"}, mode...)...)
		var out bytes.Buffer
		if code := Main(context.Background(), append([]string{"client", "--connect", path, "--checks", "unary,handler-error"}, mode...), &out, io.Discard); code != 0 {
			t.Fatalf("client %v exit %d, output %s", mode, code, out.String())
		}
		dec := json.NewDecoder(&out)
		for _, want := range []string{"unary", "handler-error"} {
			var r CheckResult
			if err := dec.Decode(&r); err != nil || r.Check != want || !r.OK {
				t.Fatalf("client %v line %+v, %v; want %s ok", mode, r, err, want)
			}
		}
		var out2 bytes.Buffer
		if code := Main(context.Background(), append([]string{"client", "--connect", path, "--checks", "unary,bogus"}, mode...), &out2, io.Discard); code != 1 {
			t.Fatalf("client with a failing check exit %d, want 1", code)
		}
		if code := stop(); code != 0 {
			t.Fatalf("server %v exit %d after cancel, want 0", mode, code)
		}
	}
}

func TestMainUsageErrors(t *testing.T) {
	for _, args := range [][]string{nil, {"frobnicate"}} {
		if code := Main(context.Background(), args, io.Discard, io.Discard); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	for _, args := range [][]string{{"server"}, {"client", "--connect", "x"}, {"bench-mux"}, {"bench-ttrpc"}, {"server", "--nope"}} {
		if code := Main(context.Background(), args, io.Discard, io.Discard); code != 1 {
			t.Errorf("%v: exit %d, want 1", args, code)
		}
	}
}

func TestMainBenchMux(t *testing.T) {
	var out bytes.Buffer
	if code := Main(context.Background(), []string{"bench-mux", "--bytes", "3000001", "--streams", "3", "--chunk", "4096"}, &out, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	var r BenchMuxResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%q: %v", out.String(), err)
	}
	if r.Impl != "go-yamux" || r.Bytes != 3000001 || r.Streams != 3 || r.Seconds <= 0 || r.MiBps <= 0 {
		t.Fatalf("result %+v", r)
	}
}

func TestMainBenchTTRPC(t *testing.T) {
	for _, mode := range []struct{ server, client []string }{{nil, []string{"--yamux"}}, {[]string{"--ttrpc-only"}, nil}} {
		path, stop := startMainServer(t, mode.server...)
		var out bytes.Buffer
		args := append([]string{"bench-ttrpc", "--connect", path, "--seconds", "0.2", "--concurrency", "4", "--payload", "100"}, mode.client...)
		if code := Main(context.Background(), args, &out, io.Discard); code != 0 {
			t.Fatalf("%v: exit %d", args, code)
		}
		var r BenchTTRPCResult
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatalf("%q: %v", out.String(), err)
		}
		if r.Impl != "go-ttrpc-client" || r.Calls <= 0 || r.Errors != 0 || r.RPS <= 0 {
			t.Fatalf("%v: result %+v", args, r)
		}
		if code := stop(); code != 0 {
			t.Fatalf("server exit %d", code)
		}
	}
}
