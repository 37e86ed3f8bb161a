// Package reaper owns wait4(-1) in the agent (guest PID 1).
//
// Contract: while Run is running, every child of this process is reaped, orphans
// reparented to it included, so no zombie survives. Processes started through Start get
// their exit delivered on the returned channel exactly once. Start registers the child
// under the same lock the reap loop takes before delivering, so an exit can never be
// reaped before its registration is visible (no lost exits).
//
// Because the reaper reaps every child, nothing else in the process may wait for
// children: never call exec.Cmd.Wait/Run/Output or os.Process.Wait on a command started
// through Start, and start every other child through Start too (Run, Output and friends
// would fail with ECHILD or hang). Commands given to Start must use only *os.File (or
// nil) for Stdin/Stdout/Stderr, because os/exec's copy goroutines are only collected by
// Cmd.Wait. cmd.Process keeps a pidfd (signals through it never reach a reused pid); call
// cmd.Process.Release once the exit arrived and no signal is in flight (Release writes
// Process.Pid, so the reaper cannot do it without racing the caller), or leave it to the
// runtime's cleanup when the Process is garbage.
//
// Outside PID 1 (tests), make the process a child subreaper
// (unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) so orphans are reparented to it.
package reaper

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Exit is the end of one child process.
type Exit struct {
	Pid    int
	Status unix.WaitStatus
	At     time.Time
}

// Code returns the exit code, or -1 when the process was killed by a signal.
func (e Exit) Code() int {
	if e.Status.Exited() {
		return e.Status.ExitStatus()
	}
	return -1
}

// Signal returns the signal that killed the process, or 0 when it exited normally.
func (e Exit) Signal() unix.Signal {
	if e.Status.Signaled() {
		return e.Status.Signal()
	}
	return 0
}

type waiter struct {
	ch chan Exit
}

// Reaper reaps all children; see the package comment.
type Reaper struct {
	mu      sync.Mutex
	waiters map[int]waiter
	// onOrphan, when set (tests), is called for every reaped child nobody registered.
	onOrphan func(Exit)
}

// New returns a Reaper. It reaps nothing until Run is called.
func New() *Reaper {
	return &Reaper{waiters: make(map[int]waiter)}
}

// Start starts cmd and registers it atomically with respect to the reap loop. The
// returned channel receives the child's Exit once and is then closed. Never call
// cmd.Wait.
func (r *Reaper) Start(cmd *exec.Cmd) (<-chan Exit, error) {
	if cmd == nil {
		return nil, errors.New("reaper: nil command")
	}
	if !isFileOrNil(cmd.Stdin) || !isFileOrNil(cmd.Stdout) || !isFileOrNil(cmd.Stderr) {
		return nil, errors.New("reaper: Stdin/Stdout/Stderr must be *os.File or nil (no Cmd.Wait to collect copy goroutines)")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ch := make(chan Exit, 1)
	r.waiters[cmd.Process.Pid] = waiter{ch: ch}
	return ch, nil
}

func isFileOrNil(v any) bool {
	switch f := v.(type) {
	case nil:
		return true
	case *os.File:
		return f != nil
	}
	return false
}

// Run reaps children until ctx ends: once at start (children that exited before Run),
// then on every SIGCHLD.
func (r *Reaper) Run(ctx context.Context) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGCHLD)
	defer signal.Stop(sigs)
	for {
		r.reapAll()
		select {
		case <-ctx.Done():
			return
		case <-sigs:
		}
	}
}

// reapAll collects every exited child without blocking.
func (r *Reaper) reapAll() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return // ECHILD: no children; 0: none exited yet
		}
		if !ws.Exited() && !ws.Signaled() {
			continue // stopped/continued: not an exit (WUNTRACED is not set; defensive)
		}
		r.deliver(Exit{Pid: pid, Status: ws, At: time.Now()})
	}
}

func (r *Reaper) deliver(e Exit) {
	r.mu.Lock() // waits for a Start in progress to register its pid
	w, ok := r.waiters[e.Pid]
	if ok {
		delete(r.waiters, e.Pid)
	}
	orphan := r.onOrphan
	r.mu.Unlock()
	if !ok {
		if orphan != nil {
			orphan(e)
		}
		return
	}
	w.ch <- e
	close(w.ch)
}
