package workload

import (
	"fmt"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// CPU time goes by priority, not by the cpu controller. The agent's threads run
// SCHED_BATCH at nice AgentNice; its children start SCHED_NORMAL at ChildNice:
//   - nice -20 makes each agent thread outweigh ~90 workload tasks (CFS weights 88761 vs
//     1024), so a fork bomb at the subtree's limits cannot starve the agent (Ping's median
//     stays at a few ms);
//   - SCHED_BATCH keeps the agent from preempting a workload when it wakes (it runs at
//     the next tick instead, or when the workload blocks). A high-priority agent that
//     preempts made each `exec true` round trip ~15-20 % slower under TCG (every wakeup of
//     the agent between the child's fork and its exit a context switch more), and so did
//     the cpu controller's group scheduling.
const (
	AgentPolicy = unix.SCHED_BATCH
	AgentNice   = -20
	ChildPolicy = unix.SCHED_NORMAL
	ChildNice   = 0
)

// setSched sets a thread's policy and nice (tid 0: the calling thread). Scheduling
// attributes are per thread in Linux; a new thread inherits its creator's.
func setSched(tid int, policy uint32, nice int) error {
	return unix.SchedSetAttr(tid, &unix.SchedAttr{Policy: policy, Nice: int32(nice)}, 0)
}

// PrioritizeThreads gives every thread of this process (taskDir: /proc/self/task) the
// agent's policy and nice; threads made later inherit them from the thread that makes
// them, so the Go runtime's later threads have them too.
func PrioritizeThreads(taskDir string) error {
	entries, err := os.ReadDir(taskDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		// A thread that exited meanwhile is ESRCH: nothing to set.
		if err := setSched(tid, AgentPolicy, AgentNice); err != nil && err != unix.ESRCH {
			return fmt.Errorf("scheduling policy of thread %d: %w", tid, err)
		}
	}
	return nil
}

// withChildPriority runs start (which forks) on a thread of its own set to the children's
// policy and nice for the fork, so the child starts with them, and gives the thread the
// agent's back after it.
func withChildPriority(start func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := setSched(0, ChildPolicy, ChildNice); err != nil {
		return fmt.Errorf("scheduling policy for a child: %w", err)
	}
	err := start()
	if rerr := setSched(0, AgentPolicy, AgentNice); rerr != nil {
		// This thread cannot go back to the agent's priority: it ends with its goroutine (a
		// goroutine that exits locked takes its thread with it) instead of serving others.
		runtime.LockOSThread()
	}
	return err
}
