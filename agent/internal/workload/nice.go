package workload

import (
	"fmt"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// The agent's threads run at AgentNice and its children start at ChildNice: under a fork
// bomb the agent's few threads each outweigh ~90 of the workload's tasks (CFS weights 88761
// vs 1024), so it keeps answering, without the cpu controller's group scheduling (which
// made every exec's round trip ~15-20 % slower under TCG: the process, its wakeups and its
// exit are then scheduled through the subtree's groups).
const (
	AgentNice = -20
	ChildNice = 0
)

// PrioritizeThreads sets AgentNice on every thread of this process (taskDir:
// /proc/self/task). Nice is per thread in Linux; threads made later inherit it from the
// thread that makes them, so the Go runtime's later threads start at AgentNice too.
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
		if err := unix.Setpriority(unix.PRIO_PROCESS, tid, AgentNice); err != nil && err != unix.ESRCH {
			return fmt.Errorf("nice %d for thread %d: %w", AgentNice, tid, err)
		}
	}
	return nil
}

// withChildNice runs start (which forks) on a thread of its own whose nice is ChildNice
// for the fork, so the child starts at ChildNice, and restores AgentNice after it.
func withChildNice(start func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Setpriority(unix.PRIO_PROCESS, 0, ChildNice); err != nil {
		return fmt.Errorf("nice %d: %w", ChildNice, err)
	}
	err := start()
	if rerr := unix.Setpriority(unix.PRIO_PROCESS, 0, AgentNice); rerr != nil {
		// This thread cannot go back to the agent's priority: let it end with the goroutine
		// (a locked thread whose goroutine exits locked is destroyed) rather than serve others.
		runtime.LockOSThread()
	}
	return err
}
