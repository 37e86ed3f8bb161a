package workload

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// kernelState writes what the kernel would show in a leaf: cgroup.events and memory.events.
func kernelState(t *testing.T, l *Leaf, populated, oomKills string) {
	t.Helper()
	for name, text := range map[string]string{
		"cgroup.events": "populated " + populated + "\nfrozen 0\n",
		"memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill " + oomKills + "\noom_group_kill 0\n",
	} {
		if err := os.WriteFile(filepath.Join(l.Path(), name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func newTree(t *testing.T) *Subtree {
	t.Helper()
	s, err := Setup(t.TempDir(), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newLeaf(t *testing.T, s *Subtree, limits Limits) *Leaf {
	t.Helper()
	l, err := s.NewLeaf(limits)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestAnEmptyLeafIsReusedByTheNextExecWithoutLimits(t *testing.T) {
	s := newTree(t)
	a := newLeaf(t, s, Limits{})
	kernelState(t, a, "0", "0")
	a.Release()
	if s.Idle() != 1 {
		t.Fatalf("idle %d", s.Idle())
	}
	// an exec with limits of its own never gets a used leaf
	limited := newLeaf(t, s, Limits{PidsMax: 8})
	if limited.Path() == a.Path() {
		t.Fatal("a leaf with limits was taken from the idle ones")
	}
	b := newLeaf(t, s, Limits{})
	if b.Path() != a.Path() || s.Idle() != 0 {
		t.Fatalf("got %s (idle %d), want the idle %s", b.Path(), s.Idle(), a.Path())
	}
	if st, err := os.Stat(filepath.Join("/proc/self/fd", strconv.Itoa(b.FD()))); err != nil || !st.IsDir() {
		t.Fatalf("a reused leaf's fd: %v", err)
	}
}

func TestReleaseKeepsOnlyLeavesFitForReuse(t *testing.T) {
	for _, c := range []struct {
		name               string
		limits             Limits
		populated, oomKill string // "": the file is missing
	}{
		{"limits of its own", Limits{MemoryMax: 1 << 20}, "0", "0"},
		{"processes left", Limits{}, "1", "0"},
		{"an OOM kill seen", Limits{}, "0", "1"},
		{"no cgroup.events", Limits{}, "", ""},
	} {
		s := newTree(t)
		l := newLeaf(t, s, c.limits)
		if c.populated != "" {
			kernelState(t, l, c.populated, c.oomKill)
		}
		l.Release()
		if s.Idle() != 0 {
			t.Errorf("%s: kept for reuse", c.name)
		}
		// a temp dir holding files cannot be removed: it stands for a leaf kept until empty
		if !slices.Contains(s.Stale(), l.Path()) {
			if _, err := os.Stat(l.Path()); err == nil {
				t.Errorf("%s: neither removed nor kept for removal", c.name)
			}
		}
	}
}

func TestIdleLeavesAreBounded(t *testing.T) {
	s := newTree(t)
	var leaves []*Leaf
	for range MaxIdleLeaves + 2 {
		l := newLeaf(t, s, Limits{})
		kernelState(t, l, "0", "0")
		leaves = append(leaves, l)
	}
	for _, l := range leaves {
		l.Release()
	}
	if s.Idle() != MaxIdleLeaves {
		t.Fatalf("idle %d, want %d", s.Idle(), MaxIdleLeaves)
	}
	if len(s.Stale()) != 2 {
		t.Fatalf("the leaves beyond the bound are not being removed: %v", s.Stale())
	}
}
