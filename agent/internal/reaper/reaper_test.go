package reaper

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var testReaper *Reaper

func TestMain(m *testing.M) {
	// Not PID 1 here: become a subreaper so orphans are reparented to this process.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "PR_SET_CHILD_SUBREAPER:", err)
		os.Exit(1)
	}
	testReaper = New()
	ctx, cancel := context.WithCancel(context.Background())
	go testReaper.Run(ctx)
	code := m.Run()
	cancel()
	os.Exit(code)
}

func waitExit(t *testing.T, ch <-chan Exit) Exit {
	t.Helper()
	select {
	case e, ok := <-ch:
		if !ok {
			t.Fatal("exit channel closed without an exit")
		}
		return e
	case <-time.After(20 * time.Second):
		t.Fatal("no exit within 20s")
	}
	return Exit{}
}

func TestExitCodesAndSignals(t *testing.T) {
	for _, tc := range []struct {
		script string
		code   int
		sig    unix.Signal
	}{
		{"exit 0", 0, 0},
		{"exit 7", 7, 0},
		{"kill -9 $$", -1, unix.SIGKILL},
		{"kill -TERM $$", -1, unix.SIGTERM},
	} {
		ch, err := testReaper.Start(exec.Command("/bin/sh", "-c", tc.script))
		if err != nil {
			t.Fatal(err)
		}
		e := waitExit(t, ch)
		if e.Code() != tc.code || e.Signal() != tc.sig {
			t.Errorf("%q: code %d signal %v, want %d %v", tc.script, e.Code(), e.Signal(), tc.code, tc.sig)
		}
		if _, ok := <-ch; ok {
			t.Errorf("%q: channel delivered twice", tc.script)
		}
	}
}

// An exit that happens immediately (the reap loop may see it while Start is still
// registering) is never lost: many instant exits all get delivered with the right pid.
func TestNoLostExits(t *testing.T) {
	const n = 50
	chans := make([]<-chan Exit, n)
	pids := make([]int, n)
	for i := range chans {
		cmd := exec.Command("/bin/true")
		ch, err := testReaper.Start(cmd)
		if err != nil {
			t.Fatal(err)
		}
		chans[i], pids[i] = ch, cmd.Process.Pid
	}
	for i, ch := range chans {
		if e := waitExit(t, ch); e.Pid != pids[i] || e.Code() != 0 {
			t.Errorf("exit %+v for pid %d", e, pids[i])
		}
	}
}

func TestStartRejectsNonFileStdio(t *testing.T) {
	cmd := exec.Command("/bin/true")
	cmd.Stdout = &strings.Builder{}
	if _, err := testReaper.Start(cmd); err == nil {
		t.Fatal("Start accepted a non-*os.File Stdout")
	}
	if cmd.Process != nil {
		t.Fatal("command was started anyway")
	}
}

// procStat returns (state, ppid) from /proc/<pid>/stat.
func procStat(pid int) (byte, int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return 0, 0, fmt.Errorf("bad stat %q", s)
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 2 {
		return 0, 0, fmt.Errorf("bad stat %q", s)
	}
	ppid, err := strconv.Atoi(f[1])
	return f[0][0], ppid, err
}

// zombieChildren lists children of this process in state Z.
func zombieChildren(t *testing.T) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var zs []int
	me := os.Getpid()
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, ppid, err := procStat(pid)
		if err == nil && ppid == me && st == 'Z' {
			zs = append(zs, pid)
		}
	}
	return zs
}

// A shell that starts a background grandchild and exits: the grandchild is reparented
// to us (subreaper) and, once it exits, is reaped although nobody registered it.
func TestOrphansAreReaped(t *testing.T) {
	orphans := make(chan Exit, 16)
	testReaper.mu.Lock()
	testReaper.onOrphan = func(e Exit) { orphans <- e }
	testReaper.mu.Unlock()
	defer func() {
		testReaper.mu.Lock()
		testReaper.onOrphan = nil
		testReaper.mu.Unlock()
	}()

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// The grandchild waits for a line on fd 3 (our pipe, kept by nobody else) so the test
	// decides when it exits, after checking it has been reparented to us.
	gr, gw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", "-c", `(read x <&3; exit 3) & echo $!`)
	cmd.Stdout = w
	cmd.ExtraFiles = []*os.File{gr}
	ch, err := testReaper.Start(cmd)
	w.Close()
	gr.Close()
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	gpid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	if e := waitExit(t, ch); e.Code() != 0 {
		t.Fatalf("shell exit %+v", e)
	}
	// The shell is gone, so the grandchild is reparented to us.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, ppid, err := procStat(gpid)
		if err != nil {
			t.Fatalf("grandchild %d vanished before it was told to exit: %v", gpid, err)
		}
		if ppid == os.Getpid() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("grandchild ppid %d, want us (%d)", ppid, os.Getpid())
		}
		time.Sleep(5 * time.Millisecond)
	}
	gw.Write([]byte("go\n"))
	gw.Close()
	select {
	case e := <-orphans:
		if e.Pid != gpid || e.Code() != 3 {
			t.Fatalf("orphan exit %+v, want pid %d code 3", e, gpid)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("orphan not reaped")
	}
	if _, _, err := procStat(gpid); err == nil {
		t.Fatalf("grandchild %d still in /proc after being reaped", gpid)
	}
	if zs := zombieChildren(t); len(zs) > 0 {
		t.Fatalf("zombie children: %v", zs)
	}
}
