package initsys

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestRunIdleRunsOnASchedIdleThread(t *testing.T) {
	type result struct {
		policy uint32
		err    error
	}
	got := make(chan result, 1)
	runIdle(func() {
		attr, err := unix.SchedGetAttr(0, 0)
		if err != nil {
			got <- result{err: err}
			return
		}
		got <- result{policy: attr.Policy}
	}, func(err error) { t.Errorf("policy: %v", err) })
	r := <-got
	if r.err != nil {
		t.Fatalf("sched_getattr: %v", r.err)
	}
	if r.policy != unix.SCHED_IDLE {
		t.Fatalf("policy = %d, want SCHED_IDLE (%d)", r.policy, unix.SCHED_IDLE)
	}
	// The test's own thread keeps its policy: runIdle changed only its own thread.
	attr, err := unix.SchedGetAttr(0, 0)
	if err != nil {
		t.Fatalf("sched_getattr: %v", err)
	}
	if attr.Policy == unix.SCHED_IDLE {
		t.Fatalf("the caller's thread became SCHED_IDLE")
	}
}
