package process

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"vessel.dev/agent/internal/agentpb"
)

// fakeMounter records calls; mounts of failOn fail.
type fakeMounter struct {
	calls  []string
	failOn string
}

func (f *fakeMounter) MkdirAll(p string, _ os.FileMode) error { return nil }
func (f *fakeMounter) Mount(source, target, fstype string, flags uintptr, data string) error {
	if target == f.failOn {
		return errors.New("boom")
	}
	f.calls = append(f.calls, "mount "+target)
	return nil
}
func (f *fakeMounter) Unmount(target string, _ int) error {
	f.calls = append(f.calls, "umount "+target)
	return nil
}

func TestRootsPreparedOnceAndUndoneOnFailure(t *testing.T) {
	f := &fakeMounter{failOn: "/r/tmp"}
	r := newRoots(f)
	err := r.prepare("/r")
	wantCode(t, err, codes.Internal)
	want := "mount /r/proc,mount /r/sys,mount /r/dev,umount /r/dev,umount /r/sys,umount /r/proc"
	if got := strings.Join(f.calls, ","); got != want {
		t.Fatalf("calls %s, want %s", got, want)
	}
	f.calls, f.failOn = nil, ""
	for range 2 {
		if err := r.prepare("/r"); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Join(f.calls, ","); got != "mount /r/proc,mount /r/sys,mount /r/dev,mount /r/tmp" {
		t.Fatalf("second preparation: %s", got)
	}
}

// staticBusybox returns a statically linked busybox, or skips.
func staticBusybox(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("no busybox")
	}
	out, _ := exec.Command("file", "-L", p).Output()
	if !strings.Contains(string(out), "statically linked") {
		t.Skip("busybox is not static")
	}
	return p
}

func TestExecInRootfs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chroot needs root")
	}
	bb := staticBusybox(t)
	root := t.TempDir()
	for _, d := range []string{"bin", "work"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin", "busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("busybox", filepath.Join(root, "bin", "sh")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "work", "hello"), []byte("from the rootfs\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	m, src := newTest(t)
	f := &fakeMounter{}
	m.roots = newRoots(f) // the chroot is real; the proc/sys/dev/tmp mounts are recorded only
	out := readAll(src.add(t, "o"))
	r := req("c1", "sh", "-c", "busybox cat hello; busybox ls /; exit 4")
	r.Rootfs, r.Cwd, r.StdoutStream = root, "/work", "o"
	r.Env = []string{"PATH=/bin"}
	mustExec(t, m, r)
	if res := mustWait(t, m, "c1"); res.ExitCode != 4 {
		t.Fatalf("exit %d", res.ExitCode)
	}
	if got, want := string(recv(t, out)), "from the rootfs\nbin\nwork\n"; got != want {
		t.Fatalf("output %q, want %q", got, want)
	}
	if len(f.calls) != 4 {
		t.Fatalf("rootfs mounts %v", f.calls)
	}

	// Its own mount namespace: compare with ours while it runs.
	r = req("c2", "/bin/busybox", "sleep", "30")
	r.Rootfs = root
	pid := mustExec(t, m, r)
	ours, _ := os.Readlink("/proc/self/ns/mnt")
	theirs, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", pid))
	if err != nil || theirs == ours {
		t.Fatalf("mount namespace %q (ours %q): %v", theirs, ours, err)
	}
	if _, err := m.Signal(ctxT(t), &agentpb.SignalRequest{ExecId: "c2", Signal: 9}); err != nil {
		t.Fatal(err)
	}
	mustWait(t, m, "c2")
}

func TestRootfsValidation(t *testing.T) {
	m, _ := newTest(t)
	root := t.TempDir()
	for _, tc := range []struct {
		rootfs, cwd string
		args        []string
		code        codes.Code
	}{
		{"relative", "", []string{"/bin/sh"}, codes.InvalidArgument},
		{filepath.Join(root, "missing"), "", []string{"/bin/sh"}, codes.InvalidArgument},
		{root, "/nope", []string{"/bin/sh"}, codes.InvalidArgument}, // NotFound is kept for a missing executable
		{root, "", []string{"sh"}, codes.NotFound},                  // PATH is searched inside the rootfs
		{root, "", []string{"/bin/sh"}, codes.NotFound},             // so is an absolute args[0]
	} {
		r := req(fmt.Sprint("v", time.Now().UnixNano()), tc.args...)
		r.Rootfs, r.Cwd = tc.rootfs, tc.cwd
		_, err := m.Exec(ctxT(t), r)
		wantCode(t, err, tc.code)
	}
}
