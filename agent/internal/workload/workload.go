// Package workload keeps the guest's workloads from taking the agent's room: every process
// the agent starts runs in a cgroup v2 subtree of its own whose limits leave the agent (PID 1,
// in the root cgroup) a reserve of memory, tasks and CPU time.
//
// Contract:
//   - Setup(root, limits) enables memory and pids in the root cgroup's subtree_control and
//     makes the workload subtree <root>/vessel with memory.max and pids.max from limits
//     (DefaultLimits: what the guest has when the agent boots, minus the agent's reserve).
//     CPU time is not divided by cgroup (the cpu controller's group scheduling made every
//     exec's round trip ~20 % slower under TCG) but by priority: the agent's threads run
//     SCHED_BATCH at nice -20, its children start SCHED_NORMAL at 0, so a fork bomb cannot
//     starve the agent (priority.go). Below it, <root>/vessel/exec holds one leaf cgroup per exec (memory
//     and pids enabled), and containers nest under it too (runc's cgroupsPath: the shim uses
//     /vessel/containers/<id>; runc without a cgroupsPath makes /vessel/exec/<id>, next to
//     the runc process's own leaf).
//   - NewLeaf gives one exec its cgroup: a leaf <root>/vessel/exec/exec@<n> (a name no runc
//     container id can take) with an open directory fd for CLONE_INTO_CGROUP (Go:
//     SysProcAttr.UseCgroupFD), so the process is born in it and nothing it forks escapes.
//     An exec with limits of its own gets a new leaf with them; one without reuses an idle
//     leaf when there is one: making and removing a cgroup per exec (and a new css_set for
//     each) took 2-5 ms in the guest under TCG, against an `exec true` round trip of 15-25
//     ms. Leaf.OOMKills reads its
//     memory.events oom_kill. Leaf.Release, once the exec finished, keeps the leaf for a
//     later exec (at most MaxIdleLeaves) when it had no limits of its own, holds no process
//     any more (cgroup.events populated 0) and saw no OOM kill (so a reused leaf always
//     starts at oom_kill 0, and with no leftover limits); otherwise it is removed, and one
//     that still holds processes (an exec's background children) is removed by a later
//     Release or Remove once they are gone.
//   - OOMScore gives the agent oom_score_adj -1000 and lifts it around each child's start
//     (Spawn), so children start at 0 instead of inheriting -1000 (a workload the OOM killer
//     may not kill would make its cgroup's OOM unresolvable); Spawn forks on a thread at
//     the children's priority likewise. PrioritizeThreads gives the agent's threads theirs.
//
// Everything here works on paths given by the caller, so tests run against a temp dir
// standing in for the cgroup filesystem and /proc.
package workload

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
)

// The layout below the cgroup2 mount.
const (
	// Dir is the workload subtree: every exec and container lives below it.
	Dir = "vessel"
	// ExecDir holds one leaf per exec (ExecLeafPrefix + a sequence number).
	ExecDir = "exec"
	// ExecLeafPrefix starts each exec leaf's name; '@' keeps it apart from runc container ids.
	ExecLeafPrefix = "exec@"
)

// Controllers enabled all the way down to the exec leaves (runc enables more on the way
// to a container whose resources ask for them, e.g. cpu).
const controllers = "+memory +pids"

// Limits bound one cgroup; a zero field is not written (no limit of its own).
type Limits struct {
	MemoryMax uint64 // memory.max, bytes
	PidsMax   uint64 // pids.max, tasks
}

// write sets dir's limit files.
func (l Limits) write(dir string) error {
	if l.MemoryMax > 0 {
		if err := writeFile(dir, "memory.max", strconv.FormatUint(l.MemoryMax, 10)); err != nil {
			return err
		}
	}
	if l.PidsMax > 0 {
		if err := writeFile(dir, "pids.max", strconv.FormatUint(l.PidsMax, 10)); err != nil {
			return err
		}
	}
	return nil
}

// Subtree is the workload subtree; its methods are safe for concurrent use.
type Subtree struct {
	dir   string // <root>/vessel
	execs string // <root>/vessel/exec
	seq   atomic.Uint64

	mu    sync.Mutex
	idle  []*Leaf  // empty leaves without limits of their own, for the next execs
	stale []string // leaves whose removal found processes still in them
}

// Setup makes the workload subtree under root (the cgroup2 mount, /sys/fs/cgroup) with
// limits; see the package comment. Idempotent: existing dirs are reused, limits rewritten.
func Setup(root string, limits Limits) (*Subtree, error) {
	s := &Subtree{dir: filepath.Join(root, Dir)}
	s.execs = filepath.Join(s.dir, ExecDir)
	if err := writeFile(root, "cgroup.subtree_control", controllers); err != nil {
		return nil, err
	}
	if err := mkdir(s.dir); err != nil {
		return nil, err
	}
	if err := limits.write(s.dir); err != nil {
		return nil, err
	}
	if err := writeFile(s.dir, "cgroup.subtree_control", controllers); err != nil {
		return nil, err
	}
	if err := mkdir(s.execs); err != nil {
		return nil, err
	}
	if err := writeFile(s.execs, "cgroup.subtree_control", controllers); err != nil {
		return nil, err
	}
	return s, nil
}

// Path is the subtree's directory.
func (s *Subtree) Path() string { return s.dir }

// Stale lists the leaves kept because processes were still in them.
func (s *Subtree) Stale() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.stale...)
}

func mkdir(dir string) error {
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("cgroup %s: %w", dir, err)
	}
	return nil
}

// writeFile writes one cgroup control file. On cgroupfs it exists once its controller is
// enabled (O_CREATE and O_TRUNC are then no-ops; a missing one cannot be created, an error);
// in a temp dir standing in for it (tests), it is created.
func writeFile(dir, name, value string) error {
	p := filepath.Join(dir, name)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("cgroup: %w", err)
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cgroup: writing %q to %s: %w", value, p, err)
	}
	return nil
}
