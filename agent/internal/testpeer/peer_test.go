package testpeer

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/yamux"
)

// ttrpcChecks run in both modes; rawChecks need yamux.
var (
	ttrpcChecks = []string{"unary", "metadata", "server-stream", "client-stream", "bidi-stream",
		"concurrent64", "deadline", "handler-error", "oversize-response", "oversize-request", "even-id"}
	rawChecks = []string{"raw-parallel", "source", "fin", "rst-from-server", "hold-release",
		"slow-sink", "raw-refusal", "goaway", "await-goaway"}
)

func testLogger(t *testing.T) *log.Logger {
	return log.New(testWriter{t}, "", log.Lmicroseconds)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// startServer runs RunServer until the test ends and returns its socket path.
func startServer(t *testing.T, opts ServerOptions) string {
	t.Helper()
	opts.Listen = filepath.Join(t.TempDir(), "peer.sock")
	opts.Log = testLogger(t)
	ready := make(chan struct{})
	opts.Ready = func() { close(ready) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- RunServer(ctx, opts) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("server exited before READY: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	return opts.Listen
}

// runChecks runs the client and decodes its output lines.
func runChecks(t *testing.T, path string, ttrpcOnly bool, names []string) (bool, []CheckResult) {
	t.Helper()
	return runClientChecks(t, ClientOptions{Connect: path, TTRPCOnly: ttrpcOnly, Checks: names})
}

// runClientChecks runs the client with opts (a 60 s CheckTimeout and the test's logger
// added) and decodes its output lines.
func runClientChecks(t *testing.T, opts ClientOptions) (bool, []CheckResult) {
	t.Helper()
	names := opts.Checks
	opts.CheckTimeout, opts.Log = 60*time.Second, testLogger(t)
	var out bytes.Buffer
	ok, err := RunClient(context.Background(), opts, &out)
	if err != nil {
		t.Fatalf("RunClient: %v", err)
	}
	var results []CheckResult
	dec := json.NewDecoder(&out)
	for {
		var r CheckResult
		if err := dec.Decode(&r); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decoding client output: %v", err)
		}
		results = append(results, r)
	}
	if len(results) != len(names) {
		t.Fatalf("got %d result lines for %d checks", len(results), len(names))
	}
	for i, r := range results {
		if r.Check != names[i] {
			t.Fatalf("line %d is check %q, want %q", i, r.Check, names[i])
		}
	}
	return ok, results
}

func TestAllChecksPassGoToGoYamux(t *testing.T) {
	path := startServer(t, ServerOptions{})
	names := append(append([]string{}, ttrpcChecks...), rawChecks...)
	ok, results := runChecks(t, path, false, names)
	for _, r := range results {
		if !r.OK {
			t.Errorf("%s: %s", r.Check, r.Detail)
		} else {
			t.Logf("%s (%d ms): %s", r.Check, r.MS, r.Detail)
		}
	}
	if !ok {
		t.Fatal("RunClient reported failure")
	}
}

func TestAllChecksPassGoToGoTTRPCOnly(t *testing.T) {
	path := startServer(t, ServerOptions{TTRPCOnly: true})
	ok, results := runChecks(t, path, true, ttrpcChecks)
	for _, r := range results {
		if !r.OK {
			t.Errorf("%s: %s", r.Check, r.Detail)
		}
	}
	if !ok {
		t.Fatal("RunClient reported failure")
	}
}

func TestRawChecksFailWithoutYamux(t *testing.T) {
	path := startServer(t, ServerOptions{TTRPCOnly: true})
	ok, results := runChecks(t, path, true, []string{"source", "unary"})
	if ok {
		t.Fatal("RunClient reported success with a failing check")
	}
	if results[0].OK || results[0].Detail != "needs yamux mode" {
		t.Errorf("source in ttrpc-only mode: %+v", results[0])
	}
	if !results[1].OK {
		t.Errorf("unary after a failed check: %+v", results[1])
	}
}

func TestUnknownCheckFails(t *testing.T) {
	path := startServer(t, ServerOptions{})
	ok, results := runChecks(t, path, false, []string{"no-such-check"})
	if ok || results[0].OK || results[0].Detail != "unknown check" {
		t.Fatalf("got ok=%v %+v", ok, results[0])
	}
}

// TestAwaitGoAwayFailsWithoutGoAway: against a server that never sends GoAway the check
// fails once its wait is over (shortened here from 10 s, so it runs under -short too).
func TestAwaitGoAwayFailsWithoutGoAway(t *testing.T) {
	path := startServer(t, ServerOptions{IgnoreGoAwayMode: true})
	ok, results := runClientChecks(t, ClientOptions{Connect: path, Checks: []string{"await-goaway"}, GoAwayWait: 300 * time.Millisecond})
	if ok || results[0].OK || !strings.Contains(results[0].Detail, "no GoAway from the server within 300ms") {
		t.Fatalf("got ok=%v %+v", ok, results[0])
	}
}

func TestGoAwayRequestReachesClient(t *testing.T) {
	requests := make(chan struct{})
	path := startServer(t, ServerOptions{
		GoAwayRequests:   requests,
		IgnoreGoAwayMode: true,
		OnRawClaimed: func(id string, _ *yamux.Session) {
			if id == "goaway:g2" {
				requests <- struct{}{}
			}
		},
	})
	ok, results := runChecks(t, path, false, []string{"unary", "await-goaway"})
	if !ok {
		t.Fatalf("%+v", results)
	}
}
