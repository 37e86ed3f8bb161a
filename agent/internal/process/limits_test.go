package process

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/grpc/codes"

	"vessel.dev/agent/internal/agentpb"
	"vessel.dev/agent/internal/workload"
)

// The cgroup side of Exec that runs without PID 1: placing a process in its leaf needs a
// real cgroup v2 tree (CLONE_INTO_CGROUP), which test/vm/guest-limits.test.ts covers in a VM.

func TestLimitsNeedTheAgentsCgroups(t *testing.T) {
	m, _ := newTest(t)
	r := req("limited", "true")
	r.MemoryMaxBytes = 64 << 20
	_, err := m.Exec(ctxT(t), r)
	wantCode(t, err, codes.Unimplemented)
	r = req("limited", "true")
	r.PidsMax = 10
	_, err = m.Exec(ctxT(t), r)
	wantCode(t, err, codes.Unimplemented)
	// the id is free again
	mustExec(t, m, req("limited", "true"))
	mustWait(t, m, "limited")
}

func TestMemoryLimitBelowOneMiB(t *testing.T) {
	m, _ := newTest(t)
	r := req("tiny", "true")
	r.MemoryMaxBytes = MinMemoryMax - 1
	_, err := m.Exec(ctxT(t), r)
	wantCode(t, err, codes.InvalidArgument)
}

func TestEveryStartRunsThroughSpawn(t *testing.T) {
	m, _ := newTest(t)
	spawns := 0
	started := false
	m.Confine(nil, func(start func() error) error {
		spawns++
		err := start()
		started = err == nil
		return err
	})
	mustExec(t, m, req("spawned", "true"))
	if res := mustWait(t, m, "spawned"); res.ExitCode != 0 || res.OomKilled {
		t.Fatalf("result %v", res)
	}
	if spawns != 1 || !started {
		t.Fatalf("spawns %d, started %t", spawns, started)
	}
	// a spawn that refuses: the exec fails, nothing is left reserved
	m.Confine(nil, func(func() error) error { return errors.New("no") })
	_, err := m.Exec(ctxT(t), req("refused", "true"))
	wantCode(t, err, codes.Internal)
	m.Confine(nil, func(start func() error) error { return start() })
	mustExec(t, m, req("refused", "true"))
	mustWait(t, m, "refused")
}

func TestOOMKilledOnlyForSIGKILLWithACount(t *testing.T) {
	tree, err := workload.Setup(t.TempDir(), workload.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := tree.NewLeaf(workload.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer leaf.Remove()
	events := func(kills string) {
		err := os.WriteFile(filepath.Join(leaf.Path(), "memory.events"), []byte("oom 1\noom_kill "+kills+"\n"), 0o644)
		if err != nil {
			t.Fatal(err)
		}
	}
	killed := &agentpb.WaitResponse{ExitCode: 137, Signal: 9}
	passedOn := &agentpb.WaitResponse{ExitCode: 137} // a shell whose child was killed
	failed := &agentpb.WaitResponse{ExitCode: 1}
	if oomKilled(killed, leaf) {
		t.Error("OOM-killed without memory.events")
	}
	events("0")
	if oomKilled(killed, leaf) {
		t.Error("OOM-killed with oom_kill 0")
	}
	events("1")
	if !oomKilled(killed, leaf) || !oomKilled(passedOn, leaf) {
		t.Error("SIGKILL (or 137) with oom_kill 1 is not an OOM kill")
	}
	if oomKilled(failed, leaf) {
		t.Error("exit 1 is an OOM kill")
	}
}
