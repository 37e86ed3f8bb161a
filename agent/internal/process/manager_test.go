package process

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"vessel.dev/agent/internal/agentpb"
	"vessel.dev/agent/internal/reaper"
)

var testReaper *reaper.Reaper

func TestMain(m *testing.M) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "PR_SET_CHILD_SUBREAPER:", err)
		os.Exit(1)
	}
	testReaper = reaper.New()
	ctx, cancel := context.WithCancel(context.Background())
	go testReaper.Run(ctx)
	code := m.Run()
	cancel()
	os.Exit(code)
}

const bound = 20 * time.Second // upper bound for conditions that should hold quickly

func newTest(t *testing.T) (*Manager, *fakeSource) {
	t.Helper()
	src := newFakeSource()
	return NewManager(src, testReaper, nil), src
}

// req returns an ExecRequest running as the test's own user.
func req(id string, args ...string) *agentpb.ExecRequest {
	return &agentpb.ExecRequest{ExecId: id, Args: args,
		Uid: uint32(os.Geteuid()), Gid: uint32(os.Getegid()), StreamWaitMs: 5000}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	t.Cleanup(cancel)
	return ctx
}

func mustExec(t *testing.T, m *Manager, r *agentpb.ExecRequest) uint32 {
	t.Helper()
	resp, err := m.Exec(ctxT(t), r)
	if err != nil {
		t.Fatalf("Exec %q: %v", r.Args, err)
	}
	if resp.Pid == 0 {
		t.Fatal("pid 0")
	}
	return resp.Pid
}

func mustWait(t *testing.T, m *Manager, id string) *agentpb.WaitResponse {
	t.Helper()
	res, err := m.Wait(ctxT(t), &agentpb.WaitRequest{ExecId: id})
	if err != nil {
		t.Fatalf("Wait %q: %v", id, err)
	}
	return res
}

func wantCode(t *testing.T, err error, c codes.Code) {
	t.Helper()
	if status.Code(err) != c {
		t.Fatalf("error %v, want code %v", err, c)
	}
}

// readAll collects everything from c until EOF.
func readAll(c io.Reader) <-chan []byte {
	ch := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(c)
		ch <- b
	}()
	return ch
}

func recv(t *testing.T, ch <-chan []byte) []byte {
	t.Helper()
	select {
	case b := <-ch:
		return b
	case <-time.After(bound):
		t.Fatal("stream did not end")
	}
	return nil
}

// readUntil reads from c until the accumulated output contains want.
func readUntil(t *testing.T, c net.Conn, acc *bytes.Buffer, want string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(bound))
	defer c.SetReadDeadline(time.Time{})
	buf := make([]byte, 4096)
	for !strings.Contains(acc.String(), want) {
		n, err := c.Read(buf)
		acc.Write(buf[:n])
		if err != nil {
			t.Fatalf("waiting for %q, got %q: %v", want, acc.String(), err)
		}
	}
}

func TestExitCodesAndSignal(t *testing.T) {
	m, _ := newTest(t)
	for i, tc := range []struct {
		script    string
		code, sig int32
	}{
		{"exit 0", 0, 0},
		{"exit 7", 7, 0},
		{"kill -9 $$", 128 + 9, 9},
	} {
		id := fmt.Sprint("e", i)
		before := time.Now()
		mustExec(t, m, req(id, "sh", "-c", tc.script))
		res := mustWait(t, m, id)
		if res.ExitCode != tc.code || res.Signal != tc.sig {
			t.Errorf("%q: exit %d signal %d, want %d %d", tc.script, res.ExitCode, res.Signal, tc.code, tc.sig)
		}
		if at := time.Unix(0, res.ExitedAtUnixNano); at.Before(before) || at.After(time.Now()) {
			t.Errorf("%q: exited_at %v outside the run", tc.script, at)
		}
		// A second Wait after the end returns the same result at once.
		if again := mustWait(t, m, id); again.ExitCode != res.ExitCode || again.ExitedAtUnixNano != res.ExitedAtUnixNano {
			t.Errorf("second Wait %v, first %v", again, res)
		}
	}
}

func TestStdoutStderrSeparateAndExact(t *testing.T) {
	m, src := newTest(t)
	data := make([]byte, 8<<20)
	rand.Read(data)
	file := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, errc := src.add(t, "out"), src.add(t, "err")
	outCh, errCh := readAll(out), readAll(errc)
	r := req("big", "sh", "-c", `head -c 8388608 "$1"; printf 'to stderr' >&2`, "sh", file)
	r.StdoutStream, r.StderrStream = "out", "err"
	mustExec(t, m, r)
	if res := mustWait(t, m, "big"); res.ExitCode != 0 {
		t.Fatalf("exit %v", res)
	}
	if got := recv(t, outCh); !bytes.Equal(got, data) {
		t.Fatalf("stdout: %d bytes, differs from the %d written", len(got), len(data))
	}
	if got := string(recv(t, errCh)); got != "to stderr" {
		t.Fatalf("stderr %q", got)
	}
}

func TestStdinEOFByStreamFIN(t *testing.T) {
	m, src := newTest(t)
	in, out := src.add(t, "in"), src.add(t, "out")
	outCh := readAll(out)
	r := req("cat", "cat")
	r.StdinStream, r.StdoutStream = "in", "out"
	mustExec(t, m, r)
	payload := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	if _, err := in.Write(payload); err != nil {
		t.Fatal(err)
	}
	in.CloseWrite() // FIN: cat reads EOF
	if res := mustWait(t, m, "cat"); res.ExitCode != 0 {
		t.Fatalf("exit %v", res)
	}
	if got := recv(t, outCh); !bytes.Equal(got, payload) {
		t.Fatalf("echo: %d bytes, want %d", len(got), len(payload))
	}
}

func TestCloseStdinWhileStreamOpen(t *testing.T) {
	m, src := newTest(t)
	in, out := src.add(t, "in"), src.add(t, "out")
	r := req("cat", "cat")
	r.StdinStream, r.StdoutStream = "in", "out"
	mustExec(t, m, r)
	in.Write([]byte("abc"))
	var acc bytes.Buffer
	readUntil(t, out, &acc, "abc") // cat is running and has read our bytes
	if _, err := m.CloseStdin(ctxT(t), &agentpb.CloseStdinRequest{ExecId: "cat"}); err != nil {
		t.Fatal(err)
	}
	if res := mustWait(t, m, "cat"); res.ExitCode != 0 {
		t.Fatalf("exit %v", res)
	}
	rest := recv(t, readAll(out))
	if acc.String()+string(rest) != "abc" {
		t.Fatalf("output %q%q", acc.String(), rest)
	}
	// Idempotent, and a no-op after the end.
	if _, err := m.CloseStdin(ctxT(t), &agentpb.CloseStdinRequest{ExecId: "cat"}); err != nil {
		t.Fatal(err)
	}
}

func TestSharedStdinStdoutStream(t *testing.T) {
	m, src := newTest(t)
	io1 := src.add(t, "io")
	outCh := readAll(io1)
	r := req("cat", "cat")
	r.StdinStream, r.StdoutStream = "io", "io"
	mustExec(t, m, r)
	io1.Write([]byte("through one stream\n"))
	io1.CloseWrite()
	if res := mustWait(t, m, "cat"); res.ExitCode != 0 {
		t.Fatalf("exit %v", res)
	}
	if got := string(recv(t, outCh)); got != "through one stream\n" {
		t.Fatalf("got %q", got)
	}
}

func TestSharedStdoutStderrStream(t *testing.T) {
	m, src := newTest(t)
	both := src.add(t, "both")
	outCh := readAll(both)
	r := req("two", "sh", "-c", "echo out; echo err >&2")
	r.StdoutStream, r.StderrStream = "both", "both"
	mustExec(t, m, r)
	mustWait(t, m, "two")
	got := string(recv(t, outCh)) // EOF only after both writers ended
	if !strings.Contains(got, "out\n") || !strings.Contains(got, "err\n") || len(got) != 8 {
		t.Fatalf("got %q", got)
	}
}

func TestTerminalSizeAndResize(t *testing.T) {
	m, src := newTest(t)
	tty := src.add(t, "tty")
	r := req("tty", "sh", "-c", "stty size; read x; stty size; tty")
	r.Terminal, r.Rows, r.Cols = true, 31, 97
	r.StdinStream, r.StdoutStream = "tty", "tty"
	mustExec(t, m, r)
	var acc bytes.Buffer
	readUntil(t, tty, &acc, "31 97\r\n")
	if _, err := m.ResizePty(ctxT(t), &agentpb.ResizePtyRequest{ExecId: "tty", Rows: 50, Cols: 132}); err != nil {
		t.Fatal(err)
	}
	tty.Write([]byte("\n"))
	readUntil(t, tty, &acc, "50 132\r\n")
	readUntil(t, tty, &acc, "/dev/pts/")
	if res := mustWait(t, m, "tty"); res.ExitCode != 0 {
		t.Fatalf("exit %v", res)
	}
	recv(t, readAll(tty)) // FIN after the drain
	_, err := m.ResizePty(ctxT(t), &agentpb.ResizePtyRequest{ExecId: "tty", Rows: 1, Cols: 1})
	wantCode(t, err, codes.FailedPrecondition)
}

func TestTerminalCloseStdinSendsEOF(t *testing.T) {
	m, src := newTest(t)
	tty := src.add(t, "tty")
	r := req("tcat", "cat")
	r.Terminal = true
	r.StdinStream, r.StdoutStream = "tty", "tty"
	mustExec(t, m, r)
	tty.Write([]byte("hi\n"))
	var acc bytes.Buffer
	readUntil(t, tty, &acc, "hi\r\nhi\r\n") // the echo, then cat's copy
	if _, err := m.CloseStdin(ctxT(t), &agentpb.CloseStdinRequest{ExecId: "tcat"}); err != nil {
		t.Fatal(err)
	}
	if res := mustWait(t, m, "tcat"); res.ExitCode != 0 || res.Signal != 0 {
		t.Fatalf("exit %v", res)
	}
}

func TestTerminalWithoutStreamsIsDrained(t *testing.T) {
	m, _ := newTest(t)
	// 1 MiB into a pty nobody reads: finishes only if the agent drains the master.
	r := req("quiet", "head", "-c", "1048576", "/dev/zero")
	r.Terminal = true
	mustExec(t, m, r)
	if res := mustWait(t, m, "quiet"); res.ExitCode != 0 {
		t.Fatalf("exit %v", res)
	}
}

func pidAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err == nil && !strings.Contains(string(b[bytes.LastIndexByte(b, ')')+1:]), " Z ")
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); os.IsNotExist(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d still exists", pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSignalGroupKillsChildren(t *testing.T) {
	m, src := newTest(t)
	out := src.add(t, "out")
	r := req("grp", "sh", "-c", "sleep 1000 & echo $!; wait")
	r.StdoutStream = "out"
	mustExec(t, m, r)
	var acc bytes.Buffer
	readUntil(t, out, &acc, "\n")
	child, err := strconv.Atoi(strings.TrimSpace(acc.String()))
	if err != nil || !pidAlive(child) {
		t.Fatalf("background child %q: %v", acc.String(), err)
	}
	if _, err := m.Signal(ctxT(t), &agentpb.SignalRequest{ExecId: "grp", Signal: 9, Group: true}); err != nil {
		t.Fatal(err)
	}
	if res := mustWait(t, m, "grp"); res.Signal != 9 {
		t.Fatalf("exit %v", res)
	}
	waitGone(t, child) // killed and reaped
	_, err = m.Signal(ctxT(t), &agentpb.SignalRequest{ExecId: "grp", Signal: 9, Group: true})
	wantCode(t, err, codes.FailedPrecondition)
}

func TestSignalProcessOnly(t *testing.T) {
	m, src := newTest(t)
	out := src.add(t, "out")
	r := req("one", "sh", "-c", "sleep 1000 >/dev/null & echo $!; exec sleep 1000")
	r.StdoutStream = "out"
	pid := mustExec(t, m, r)
	var acc bytes.Buffer
	readUntil(t, out, &acc, "\n") // the group member exists
	if _, err := m.Signal(ctxT(t), &agentpb.SignalRequest{ExecId: "one", Signal: int32(unix.SIGTERM)}); err != nil {
		t.Fatal(err)
	}
	if res := mustWait(t, m, "one"); res.Signal != int32(unix.SIGTERM) {
		t.Fatalf("exit %v", res)
	}
	_, err := m.Signal(ctxT(t), &agentpb.SignalRequest{ExecId: "one", Signal: 15})
	wantCode(t, err, codes.FailedPrecondition)
	// The group member survived a non-group signal; clean it up.
	if err := unix.Kill(-int(pid), 0); err != nil {
		t.Fatalf("group %d gone after a single-process signal: %v", pid, err)
	}
	unix.Kill(-int(pid), unix.SIGKILL)
	_, err = m.Signal(ctxT(t), &agentpb.SignalRequest{ExecId: "one", Signal: 99})
	wantCode(t, err, codes.InvalidArgument)
}

// gatedConn lets writes through until limit bytes were written, then blocks them until
// gate is closed; it records what was written and whether FIN was sent.
type gatedConn struct {
	*net.UnixConn
	limit   int64
	gate    chan struct{}
	written atomic.Int64
	fin     atomic.Bool
}

// Write passes bytes through up to limit, then blocks until gate is closed (a write that
// straddles the limit is split there, whatever the copier's buffer size).
func (g *gatedConn) Write(b []byte) (int, error) {
	done := 0
	if room := g.limit - g.written.Load(); room < int64(len(b)) {
		if room > 0 {
			n, err := g.UnixConn.Write(b[:room])
			g.written.Add(int64(n))
			done += n
			if err != nil {
				return done, err
			}
			b = b[n:]
		}
		<-g.gate
	}
	n, err := g.UnixConn.Write(b)
	g.written.Add(int64(n))
	return done + n, err
}

func (g *gatedConn) CloseWrite() error {
	g.fin.Store(true)
	return g.UnixConn.CloseWrite()
}

func TestWaitReturnsOnlyAfterDrain(t *testing.T) {
	m, src := newTest(t)
	const total = 4 << 20
	host, agent := socketPair(t)
	defer host.Close()
	// The process can exit with the last 40 KiB still in its pipe (256 KiB, pipe.go).
	g := &gatedConn{UnixConn: agent, limit: total - 40<<10, gate: make(chan struct{})}
	src.addConn("out", g)
	outCh := readAll(host)
	r := req("w", "head", "-c", strconv.Itoa(total), "/dev/zero")
	r.StdoutStream = "out"
	mustExec(t, m, r)

	type seen struct {
		written int64
		fin     bool
		err     error
	}
	waited := make(chan seen, 1)
	go func() {
		_, err := m.Wait(context.Background(), &agentpb.WaitRequest{ExecId: "w"})
		waited <- seen{g.written.Load(), g.fin.Load(), err}
	}()
	p, err := m.lookup("w")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited: // the process has exited and been reaped; output is gated
	case <-time.After(bound):
		t.Fatal("process did not exit")
	}
	select {
	case s := <-waited:
		t.Fatalf("Wait returned before the drain: %+v", s)
	default:
	}
	close(g.gate)
	s := <-waited
	if s.err != nil || s.written != total || !s.fin {
		t.Fatalf("at Wait's return: %+v, want %d bytes and FIN", s, total)
	}
	if got := recv(t, outCh); len(got) != total {
		t.Fatalf("host read %d bytes", len(got))
	}
}

func TestConcurrentWaits(t *testing.T) {
	m, src := newTest(t)
	in := src.add(t, "in")
	r := req("cw", "sh", "-c", "read x; exit 5")
	r.StdinStream = "in"
	mustExec(t, m, r)
	var wg sync.WaitGroup
	results := make(chan int32, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := m.Wait(ctxT(t), &agentpb.WaitRequest{ExecId: "cw"})
			if err == nil {
				results <- res.ExitCode
			}
		}()
	}
	in.Write([]byte("go\n"))
	wg.Wait()
	close(results)
	n := 0
	for c := range results {
		n++
		if c != 5 {
			t.Errorf("exit %d", c)
		}
	}
	if n != 10 {
		t.Fatalf("%d of 10 waiters got the result", n)
	}
	// A Wait whose context ends returns the context's status.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r2 := req("cw2", "sh", "-c", "read x")
	r2.StdinStream = "in2"
	in2 := src.add(t, "in2")
	mustExec(t, m, r2)
	_, err := m.Wait(ctx, &agentpb.WaitRequest{ExecId: "cw2"})
	wantCode(t, err, codes.Canceled)
	in2.CloseWrite()
	mustWait(t, m, "cw2")
}

func TestDuplicateExecID(t *testing.T) {
	m, src := newTest(t)
	in := src.add(t, "in")
	r := req("dup", "cat")
	r.StdinStream = "in"
	mustExec(t, m, r)
	_, err := m.Exec(ctxT(t), req("dup", "true"))
	wantCode(t, err, codes.AlreadyExists)
	in.CloseWrite()
	mustWait(t, m, "dup")
	// Finished: the id may be reused.
	mustExec(t, m, req("dup", "sh", "-c", "exit 3"))
	if res := mustWait(t, m, "dup"); res.ExitCode != 3 {
		t.Fatalf("reused id: %v", res)
	}
}

func TestMissingStreamTimesOut(t *testing.T) {
	m, src := newTest(t)
	r := req("ms", "true")
	r.StdoutStream, r.StreamWaitMs = "never", 300
	start := time.Now()
	_, err := m.Exec(ctxT(t), r)
	wantCode(t, err, codes.DeadlineExceeded)
	if el := time.Since(start); el < 300*time.Millisecond || el > 5*time.Second {
		t.Fatalf("gave up after %v, asked for 300ms", el)
	}
	// A claimed stream is given back (closed) when a later one is missing.
	in := src.add(t, "in")
	r = req("ms", "true")
	r.StdinStream, r.StdoutStream, r.StreamWaitMs = "in", "never", 100
	_, err = m.Exec(ctxT(t), r)
	wantCode(t, err, codes.DeadlineExceeded)
	in.SetReadDeadline(time.Now().Add(bound))
	if _, err := in.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("claimed stream not closed: %v", err)
	}
	// The id was not kept.
	mustExec(t, m, req("ms", "true"))
	mustWait(t, m, "ms")
}

func TestValidationAndUnknownIDs(t *testing.T) {
	m, _ := newTest(t)
	ctx := ctxT(t)
	for _, tc := range []struct {
		name string
		r    *agentpb.ExecRequest
		code codes.Code
	}{
		{"no args", req("v"), codes.InvalidArgument},
		{"no id", req("", "true"), codes.InvalidArgument},
		{"missing cwd", func() *agentpb.ExecRequest { r := req("v", "true"); r.Cwd = "/nonexistent/dir"; return r }(), codes.InvalidArgument},
		{"relative cwd", func() *agentpb.ExecRequest { r := req("v", "true"); r.Cwd = "tmp"; return r }(), codes.InvalidArgument},
		{"cwd is a file", func() *agentpb.ExecRequest { r := req("v", "true"); r.Cwd = "/etc/passwd"; return r }(), codes.InvalidArgument},
		{"no such program", req("v", "no-such-program-xyz"), codes.NotFound},
		{"not in request PATH", func() *agentpb.ExecRequest { r := req("v", "true"); r.Env = []string{"PATH=/nonexistent"}; return r }(), codes.NotFound},
		{"bad env", func() *agentpb.ExecRequest { r := req("v", "true"); r.Env = []string{"NOEQUALS"}; return r }(), codes.InvalidArgument},
		{"terminal with stderr", func() *agentpb.ExecRequest { r := req("v", "true"); r.Terminal = true; r.StderrStream = "e"; return r }(), codes.InvalidArgument},
	} {
		_, err := m.Exec(ctx, tc.r)
		if status.Code(err) != tc.code {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.code)
		}
	}
	_, err := m.Wait(ctx, &agentpb.WaitRequest{ExecId: "nope"})
	wantCode(t, err, codes.NotFound)
	_, err = m.Signal(ctx, &agentpb.SignalRequest{ExecId: "nope", Signal: 9})
	wantCode(t, err, codes.NotFound)
	_, err = m.ResizePty(ctx, &agentpb.ResizePtyRequest{ExecId: "nope", Rows: 1, Cols: 1})
	wantCode(t, err, codes.NotFound)
	_, err = m.CloseStdin(ctx, &agentpb.CloseStdinRequest{ExecId: "nope"})
	wantCode(t, err, codes.NotFound)

	// The request's PATH and cwd are used; the default env is not the agent's own.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "hello"), []byte("#!/bin/sh\necho \"$PWD $FOO $VESSEL_TEST_LEAK\"\n"), 0o755)
	os.Setenv("VESSEL_TEST_LEAK", "leaked")
	defer os.Unsetenv("VESSEL_TEST_LEAK")
	src := m.streams.(*fakeSource)
	out := src.add(t, "o")
	r := req("v", "hello")
	r.Env, r.Cwd, r.StdoutStream = []string{"PATH=/nonexistent:" + dir, "FOO=bar"}, "/tmp", "o"
	mustExec(t, m, r)
	mustWait(t, m, "v")
	if got := string(recv(t, readAll(out))); got != "/tmp bar \n" {
		t.Fatalf("got %q", got)
	}
	_, err = m.ResizePty(ctx, &agentpb.ResizePtyRequest{ExecId: "v", Rows: 1, Cols: 1})
	wantCode(t, err, codes.FailedPrecondition)
}

func countFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func zombieChildren(t *testing.T) []int {
	ents, _ := os.ReadDir("/proc")
	var zs []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
		if len(f) > 1 && f[0] == "Z" && f[1] == strconv.Itoa(os.Getpid()) {
			zs = append(zs, pid)
		}
	}
	return zs
}

func TestNoLeaks(t *testing.T) {
	m, src := newTest(t)
	run := func(i int, terminal bool) {
		id := fmt.Sprint("leak", i)
		host, agent := socketPair(t)
		src.addConn(id, agent)
		outCh := readAll(host)
		r := req(id, "sh", "-c", "read x; echo $x; echo e >&2")
		r.StdinStream, r.StdoutStream, r.Terminal = id, id, terminal
		if !terminal {
			r.StderrStream = id + "e"
			he, ae := socketPair(t)
			src.addConn(id+"e", ae)
			defer he.Close()
			defer recv(t, readAll(he))
		}
		mustExec(t, m, r)
		host.Write([]byte("x\n"))
		mustWait(t, m, id)
		recv(t, outCh)
		host.Close()
	}
	run(-1, false) // warm up lazily created runtime fds (epoll, pidfd probe)
	run(-2, true)
	fds, goroutines := countFDs(t), runtime.NumGoroutine()
	for i := range 100 {
		run(i, i%4 == 0)
	}
	if z := zombieChildren(t); len(z) > 0 {
		t.Fatalf("zombies: %v", z)
	}
	if n := countFDs(t); n != fds {
		t.Fatalf("fds: %d before, %d after", fds, n)
	}
	// Goroutines end asynchronously after Wait (stdin copies wake on Close).
	deadline := time.Now().Add(bound)
	for runtime.NumGoroutine() > goroutines {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d before, %d after\n%s", goroutines, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEvictsOldestFinished(t *testing.T) {
	m, _ := newTest(t)
	m.mu.Lock()
	for i := range MaxFinished + 5 {
		p := &proc{id: fmt.Sprint("old", i), done: make(chan struct{})}
		close(p.done)
		m.procs[p.id] = p
		m.finished = append(m.finished, p)
	}
	m.finished = m.finished[:MaxFinished] // the next finish pushes the table over
	m.mu.Unlock()
	mustExec(t, m, req("new", "true"))
	mustWait(t, m, "new")
	if _, err := m.Wait(ctxT(t), &agentpb.WaitRequest{ExecId: "old0"}); status.Code(err) != codes.NotFound {
		t.Fatalf("oldest not evicted: %v", err)
	}
	if _, err := m.Wait(ctxT(t), &agentpb.WaitRequest{ExecId: "old1"}); err != nil {
		t.Fatalf("second oldest evicted: %v", err)
	}
	m.mu.Lock()
	n := len(m.finished)
	m.mu.Unlock()
	if n != MaxFinished {
		t.Fatalf("%d finished kept", n)
	}
}

// A host that drops its stdout stream does not block the process: output is discarded.
func TestBrokenOutputStreamIsDrained(t *testing.T) {
	m, src := newTest(t)
	out := src.add(t, "out")
	out.Close()
	r := req("broken", "head", "-c", "4194304", "/dev/zero")
	r.StdoutStream = "out"
	mustExec(t, m, r)
	if res := mustWait(t, m, "broken"); res.ExitCode != 0 || res.Signal != 0 {
		t.Fatalf("exit %v", res)
	}
}

func TestCredentials(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch users")
	}
	m, src := newTest(t)
	out := src.add(t, "out")
	r := req("cred", "sh", "-c", "id -u; id -g; id -G")
	r.Uid, r.Gid, r.AdditionalGids, r.StdoutStream = 65534, 65534, []uint32{100}, "out"
	mustExec(t, m, r)
	mustWait(t, m, "cred")
	if got := string(recv(t, readAll(out))); got != "65534\n65534\n65534 100\n" {
		t.Fatalf("got %q", got)
	}
}
