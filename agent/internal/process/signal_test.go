package process

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"vessel.dev/agent/internal/agentpb"
	"vessel.dev/agent/internal/reaper"
)

func TestSignalAllChecks(t *testing.T) {
	type call struct {
		pid int
		sig unix.Signal
	}
	for _, tc := range []struct {
		name    string
		sig     int32
		self    int
		killErr error
		want    codes.Code
		sent    bool
	}{
		{"sent from PID 1", 15, 1, nil, codes.OK, true},
		{"lowest signal", 1, 1, nil, codes.OK, true},
		{"highest signal", 64, 1, nil, codes.OK, true},
		{"no process left is success", 9, 1, unix.ESRCH, codes.OK, true},
		{"other kill errors are INTERNAL", 9, 1, unix.EPERM, codes.Internal, true},
		{"signal 0", 0, 1, nil, codes.InvalidArgument, false},
		{"negative signal", -9, 1, nil, codes.InvalidArgument, false},
		{"signal 65", 65, 1, nil, codes.InvalidArgument, false},
		{"not PID 1", 9, 4242, nil, codes.Unimplemented, false},
		{"not PID 1 comes before the range check", 0, 4242, nil, codes.Unimplemented, false},
	} {
		var calls []call
		err := signalAll(tc.sig, tc.self, func(pid int, sig unix.Signal) error {
			calls = append(calls, call{pid, sig})
			return tc.killErr
		})
		if status.Code(err) != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		want := []call(nil)
		if tc.sent {
			want = []call{{-1, unix.Signal(tc.sig)}}
		}
		if fmt.Sprint(calls) != fmt.Sprint(want) {
			t.Errorf("%s: kill calls %v, want %v", tc.name, calls, want)
		}
	}
}

// TestSignalAllOutsidePID1 checks the Manager's own guard: this test process is not PID
// 1, so nothing may be sent. Signal 0 keeps a broken guard harmless (kill(-1, 0) only
// checks) and visible (the range check answers INVALID_ARGUMENT instead).
func TestSignalAllOutsidePID1(t *testing.T) {
	m, _ := newTest(t)
	_, err := m.SignalAll(ctxT(t), &agentpb.SignalAllRequest{Signal: 0})
	wantCode(t, err, codes.Unimplemented)
}

// signalAllInitEnv makes the test binary run signalAllAsInit instead of the tests: it is
// set for the copy TestSignalAllAsInit starts as PID 1 of a new pid namespace.
const signalAllInitEnv = "VESSEL_TEST_SIGNALALL_INIT"

const signalAllInitOK = "signal-all-init: ok"

func init() {
	if os.Getenv(signalAllInitEnv) == "" {
		return
	}
	if err := signalAllAsInit(); err != nil {
		fmt.Fprintln(os.Stderr, "signal-all-init:", err)
		os.Exit(1)
	}
	fmt.Println(signalAllInitOK)
	os.Exit(0)
}

// TestSignalAllAsInit runs SignalAll for real: the test binary again, as PID 1 of its own
// pid namespace (kill(-1) there reaches only that namespace), with a managed exec and an
// untracked process in its own session to signal. When that init exits, the kernel kills
// whatever is left in its namespace, so nothing leaks.
func TestSignalAllAsInit(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.CreateTemp(t.TempDir(), "init-output")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), signalAllInitEnv+"=1")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWPID, Pdeathsig: unix.SIGKILL}
	if os.Geteuid() != 0 { // a user namespace lets an unprivileged user make the pid namespace
		cmd.SysProcAttr.Cloneflags |= unix.CLONE_NEWUSER
		cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: os.Geteuid(), HostID: os.Geteuid(), Size: 1}}
		cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: os.Getegid(), HostID: os.Getegid(), Size: 1}}
	}
	exitCh, err := testReaper.Start(cmd)
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.EINVAL) {
		t.Skipf("cannot make a pid namespace here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	var e reaper.Exit
	select {
	case e = <-exitCh:
	case <-time.After(bound):
		cmd.Process.Kill()
		<-exitCh
		t.Fatal("the init did not finish")
	}
	got, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	if e.Code() != 0 || !strings.Contains(string(got), signalAllInitOK) {
		t.Fatalf("init: exit %d signal %d, output:\n%s", e.Code(), e.Signal(), got)
	}
}

// signalAllAsInit is the init of TestSignalAllAsInit.
func signalAllAsInit() error {
	if os.Getpid() != 1 {
		return fmt.Errorf("pid %d, want 1", os.Getpid())
	}
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	rp := reaper.New()
	go rp.Run(ctx)
	m := NewManager(newFakeSource(), rp, nil)

	if _, err := m.Exec(ctx, req("managed", "sleep", "1000")); err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	untracked := exec.Command("sleep", "1000")
	untracked.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	untrackedExit, err := rp.Start(untracked)
	if err != nil {
		return fmt.Errorf("start untracked: %w", err)
	}

	for _, sig := range []int32{0, -1, 65} {
		if _, err := m.SignalAll(ctx, &agentpb.SignalAllRequest{Signal: sig}); status.Code(err) != codes.InvalidArgument {
			return fmt.Errorf("signal %d: %v, want INVALID_ARGUMENT", sig, err)
		}
	}
	if _, err := m.SignalAll(ctx, &agentpb.SignalAllRequest{Signal: int32(unix.SIGTERM)}); err != nil {
		return fmt.Errorf("SIGTERM: %w", err)
	}
	res, err := m.Wait(ctx, &agentpb.WaitRequest{ExecId: "managed"})
	if err != nil || res.Signal != int32(unix.SIGTERM) {
		return fmt.Errorf("managed exec: %v %v, want killed by SIGTERM", res, err)
	}
	select {
	case e := <-untrackedExit:
		if e.Signal() != unix.SIGTERM {
			return fmt.Errorf("untracked process: exit %d signal %d, want SIGTERM", e.Code(), e.Signal())
		}
	case <-ctx.Done():
		return errors.New("the untracked process was not signalled")
	}

	// Both are reaped: only this init is left, and "none left" is success.
	if err := unix.Kill(-1, 0); err != unix.ESRCH {
		return fmt.Errorf("kill(-1, 0) = %v, want ESRCH: a process is left", err)
	}
	if _, err := m.SignalAll(ctx, &agentpb.SignalAllRequest{Signal: int32(unix.SIGKILL)}); err != nil {
		return fmt.Errorf("with no process left: %w", err)
	}
	return nil
}
