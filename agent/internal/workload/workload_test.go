package workload

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A temp dir stands in for the cgroup filesystem: files written there are what the agent
// would write to cgroupfs. Unlike cgroupfs, a dir holding the files written into it cannot
// be removed, which stands in for a leaf that still holds processes.

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSetupMakesTheLimitedSubtree(t *testing.T) {
	root := t.TempDir()
	s, err := Setup(root, Limits{MemoryMax: 100 << 20, PidsMax: 500})
	if err != nil {
		t.Fatal(err)
	}
	if s.Path() != filepath.Join(root, "vessel") {
		t.Fatalf("path %s", s.Path())
	}
	for file, want := range map[string]string{
		"cgroup.subtree_control":             "+memory +pids",
		"vessel/memory.max":                  "104857600",
		"vessel/pids.max":                    "500",
		"vessel/cgroup.subtree_control":      "+memory +pids",
		"vessel/exec/cgroup.subtree_control": "+memory +pids",
	} {
		if got := read(t, filepath.Join(root, file)); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
	// again (the agent restarted setup): the dirs are reused, the limits rewritten
	if _, err := Setup(root, Limits{MemoryMax: 64 << 20, PidsMax: 400}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(root, "vessel/pids.max")); got != "400" {
		t.Errorf("pids.max after a second Setup = %q", got)
	}
}

func TestSetupWithoutLimitsWritesNone(t *testing.T) {
	root := t.TempDir()
	if _, err := Setup(root, Limits{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"memory.max", "pids.max"} {
		if _, err := os.Stat(filepath.Join(root, "vessel", f)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s written without a limit: %v", f, err)
		}
	}
}

func TestSetupFailsWithoutACgroupRoot(t *testing.T) {
	if _, err := Setup(filepath.Join(t.TempDir(), "missing"), Limits{}); err == nil {
		t.Fatal("Setup on a missing root succeeded")
	}
}

func TestNewLeafPerExecWithItsOwnLimits(t *testing.T) {
	root := t.TempDir()
	s, err := Setup(root, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.NewLeaf(Limits{MemoryMax: 32 << 20})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.NewLeaf(Limits{PidsMax: 16})
	if err != nil {
		t.Fatal(err)
	}
	if a.Path() != filepath.Join(root, "vessel/exec/exec@1") || b.Path() != filepath.Join(root, "vessel/exec/exec@2") {
		t.Fatalf("leaves %s, %s", a.Path(), b.Path())
	}
	if got := read(t, filepath.Join(a.Path(), "memory.max")); got != "33554432" {
		t.Errorf("memory.max = %q", got)
	}
	if _, err := os.Stat(filepath.Join(a.Path(), "pids.max")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pids.max written without a limit: %v", err)
	}
	if got := read(t, filepath.Join(b.Path(), "pids.max")); got != "16" {
		t.Errorf("pids.max = %q", got)
	}
	// the fd names the leaf's directory
	st, err := os.Stat(filepath.Join("/proc/self/fd", strconv.Itoa(a.FD())))
	if err != nil || !st.IsDir() {
		t.Fatalf("leaf fd: %v", err)
	}
	if target, _ := os.Readlink(filepath.Join("/proc/self/fd", strconv.Itoa(a.FD()))); target != a.Path() {
		t.Errorf("fd points at %s", target)
	}
	a.Remove()
	b.Remove()
}

func TestRemoveRetriesLeavesThatStillHeldProcesses(t *testing.T) {
	root := t.TempDir()
	s, err := Setup(root, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	empty, err := s.NewLeaf(Limits{})
	if err != nil {
		t.Fatal(err)
	}
	empty.Remove()
	if _, err := os.Stat(empty.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an empty leaf stays: %v", err)
	}
	busy, err := s.NewLeaf(Limits{PidsMax: 4}) // its pids.max file keeps it (processes, on cgroupfs)
	if err != nil {
		t.Fatal(err)
	}
	busy.Remove()
	if got := s.Stale(); len(got) != 1 || got[0] != busy.Path() {
		t.Fatalf("stale = %v", got)
	}
	os.Remove(filepath.Join(busy.Path(), "pids.max")) // its processes are gone
	next, err := s.NewLeaf(Limits{})
	if err != nil {
		t.Fatal(err)
	}
	next.Remove()
	if got := s.Stale(); len(got) != 0 {
		t.Fatalf("stale after the retry = %v", got)
	}
	if _, err := os.Stat(busy.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the stale leaf was not removed: %v", err)
	}
}

func TestOOMKills(t *testing.T) {
	root := t.TempDir()
	s, err := Setup(root, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.NewLeaf(Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.OOMKills(); err == nil {
		t.Fatal("OOMKills without memory.events succeeded")
	}
	events := "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n"
	if err := os.WriteFile(filepath.Join(l.Path(), "memory.events"), []byte(events), 0o644); err != nil {
		t.Fatal(err)
	}
	if n, err := l.OOMKills(); err != nil || n != 2 {
		t.Fatalf("OOMKills = %d, %v", n, err)
	}
	if _, err := parseOOMKills([]byte("low 0\noom 1\n")); err == nil {
		t.Fatal("memory.events without oom_kill parsed")
	}
}

func TestDefaultLimits(t *testing.T) {
	for _, c := range []struct {
		avail, pidMax, threadsMax uint64
		want                      Limits
	}{
		// a 256 MiB guest: 174 MiB available at boot, threads-max 1598
		{174 << 20, 32768, 1598, Limits{MemoryMax: 142 << 20, PidsMax: 1342}},
		// pid_max the smaller bound
		{1 << 30, 1000, 100000, Limits{MemoryMax: (1 << 30) - MemoryReserve, PidsMax: 1000 - TaskReserve}},
		// a guest too small for the reserve: the floors
		{40 << 20, 300, 300, Limits{MemoryMax: FloorMemoryMax, PidsMax: FloorPidsMax}},
		{0, 0, 0, Limits{MemoryMax: FloorMemoryMax, PidsMax: FloorPidsMax}},
	} {
		if got := DefaultLimits(c.avail, c.pidMax, c.threadsMax); got != c.want {
			t.Errorf("DefaultLimits(%d, %d, %d) = %+v, want %+v", c.avail, c.pidMax, c.threadsMax, got, c.want)
		}
	}
}

func TestReadDefaults(t *testing.T) {
	proc := t.TempDir()
	if _, err := ReadDefaults(proc); err == nil {
		t.Fatal("ReadDefaults without meminfo succeeded")
	}
	meminfo := "MemTotal:         222756 kB\nMemFree:          174048 kB\nMemAvailable:     178176 kB\n"
	if err := os.WriteFile(filepath.Join(proc, "meminfo"), []byte(meminfo), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(proc, "sys/kernel"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"pid_max": "32768\n", "threads-max": "1598\n"} {
		if err := os.WriteFile(filepath.Join(proc, "sys/kernel", name), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadDefaults(proc)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Limits{MemoryMax: 178176<<10 - MemoryReserve, PidsMax: 1598 - TaskReserve}); got != want {
		t.Fatalf("ReadDefaults = %+v, want %+v", got, want)
	}
	if err := os.WriteFile(filepath.Join(proc, "meminfo"), []byte("MemTotal: 1 kB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadDefaults(proc); err == nil || !strings.Contains(err.Error(), "MemAvailable") {
		t.Fatalf("meminfo without MemAvailable: %v", err)
	}
}

// writes records what an OOMScore writes (procfs takes each write whole).
type writes []string

func (w *writes) WriteAt(p []byte, off int64) (int, error) {
	if off != 0 {
		return 0, errors.New("not at 0")
	}
	*w = append(*w, string(p))
	return len(p), nil
}

func TestOOMScoreLiftedOnlyAroundASpawn(t *testing.T) {
	var w writes
	o, err := newOOMScore(&w, nil)
	if err != nil {
		t.Fatal(err)
	}
	startErr := errors.New("exec failed")
	var during []string
	if err := o.Spawn(func() error { during = append(during, w...); return startErr }); err != startErr {
		t.Fatalf("Spawn returned %v, want start's error", err)
	}
	if got := strings.Join(during, ","); got != "-1000,0" {
		t.Errorf("written before the child's start: %s (the child inherits the last)", got)
	}
	if got := strings.Join(w, ","); got != "-1000,0,-1000" {
		t.Errorf("written: %s", got)
	}
}

func TestProtectAgent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oom_score_adj")
	if err := os.WriteFile(path, []byte("0"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ProtectAgent(path, nil); err != nil {
		t.Fatal(err)
	}
	if got := read(t, path); got != "-1000" {
		t.Fatalf("after ProtectAgent: %q", got)
	}
	if _, err := ProtectAgent(filepath.Join(t.TempDir(), "no", "such"), nil); err == nil {
		t.Fatal("ProtectAgent on a missing path succeeded")
	}
}
