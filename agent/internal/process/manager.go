// Package process runs guest processes: the processes the host starts in the guest with
// the Exec, Wait, Signal, SignalAll, ResizePty and CloseStdin calls of
// vessel.agent.v1.Agent. Every "process" in this package is a guest process (never a
// host-side helper such as QEMU).
//
// Contract:
//   - Exec validates the request, reserves exec_id (ALREADY_EXISTS while a process with
//     that id is running or still draining; the id of a finished process may be reused,
//     which replaces its kept result), claims each distinct named stream once (waiting up
//     to stream_wait_ms, default 10 s, at most 60 s; DEADLINE_EXCEEDED when one does not
//     arrive), and starts the process through the reaper: in its own process group, or,
//     with terminal, in its own session with a new pty as controlling terminal (stdin and
//     stdout are the pty, stderr is merged; stderr_stream must then be empty). Streams
//     are copied with fixed 128 KiB buffers (copyBufSize); stdout/stderr streams get
//     CloseWrite (FIN) when the process side reaches EOF (a stream serving both stdout
//     and stderr: when both did). A stream whose host side fails is drained to nowhere so
//     the process never blocks on it.
//   - Wait returns once the process exited and its output was drained: every byte is
//     written to the streams and FIN sent. exit_code is the exit status, or 128+signal
//     when signal (authoritative) is set. Output held open by a process that inherited
//     stdout/stderr (a background child) delays Wait until it closes them; Signal with
//     group=true is the way to end such a group. Finished results are kept; beyond 1024
//     finished processes the oldest are forgotten (then NOT_FOUND).
//   - Signal goes to the process (through its pidfd: never to a reused pid) or to its
//     process group (kill(-pgid)). Choice: signalling what no longer exists is
//     FAILED_PRECONDITION — the single process once it exited; the group once it is empty
//     or the process finished (exited and drained), so a reused pgid is never hit later.
//     Signal 0 only checks existence.
//   - SignalAll sends a signal (1..64, else INVALID_ARGUMENT) to every process in the
//     guest but the agent: kill(-1, sig), which from PID 1 spares only the caller. It
//     reaches what the agent did not start too (orphans, daemons), in any process group
//     or session. Success once sent to at least one process, and also when none is left
//     (ESRCH). Outside PID 1 (host mode) it is UNIMPLEMENTED and sends nothing: there
//     kill(-1) would reach every process of the agent's user.
//   - CloseStdin ends the process's stdin even while the stdin stream stays open: the
//     pipe is closed (EOF); with a pty one ^D (VEOF, 0x04) is written to the master, which
//     the line discipline turns into EOF for a canonical-mode reader at the start of a
//     line (after unsent input on the line, that ^D only submits the line). FIN on the
//     stdin stream has the same effect. Later stdin bytes are read and discarded. A
//     no-op for processes without a stdin stream or after exit.
//   - ResizePty sets the pty size (TIOCSWINSZ; the kernel sends SIGWINCH);
//     FAILED_PRECONDITION for a non-terminal exec or after the process finished.
//   - With rootfs, the process runs chrooted there in its own mount namespace (a copy of
//     the agent's); args[0], PATH and cwd are resolved inside it. Before the first such
//     process, proc, sysfs (read-only), the guest's /dev (recursive bind) and a tmpfs on
//     /tmp are mounted under the rootfs in the agent's namespace (once; undone if one
//     fails: INTERNAL).
//   - Confined (Confine; the agent as PID 1), every process is born in a cgroup of its own
//     below the workload subtree (agent/internal/workload) with the request's
//     memory_max_bytes / pids_max (0: none of its own; at least 1 MiB of memory), and
//     inherits oom_score_adj 0, not the agent's -1000. A fork the limits refuse (EAGAIN,
//     ENOMEM) is RESOURCE_EXHAUSTED. Wait's oom_killed: the process ended by SIGKILL (or
//     exit 137) while its cgroup's memory.events counted an OOM kill, and the host sent it
//     no SIGKILL itself (Signal, SignalAll). The cgroup is released once the result is
//     published (workload.Leaf.Release: kept for a later exec when empty and without limits
//     of its own, else removed, later while background children still live in it).
//     Unconfined (host mode), a request with limits is UNIMPLEMENTED.
//   - Once a process finished, every fd and goroutine it used is released (the pty master
//     after the drain); streams are closed.
//
// Files: manager.go (Manager, Wait, ResizePty, CloseStdin), exec.go (Exec's steps and
// supervision), spec.go (request validation, executable lookup), signal.go, streamcopy.go
// (stream copies), pipe.go / pty.go / rawfile.go (the process's stdio), rootfs.go.
package process

import (
	"context"
	"io"
	"log"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"vessel.dev/agent/internal/agentpb"
	"vessel.dev/agent/internal/reaper"
	"vessel.dev/agent/internal/workload"
)

// StreamSource is the agent's raw-stream registry (implemented by agent/internal/streams).
type StreamSource interface {
	// Claim returns the stream named id, waiting up to wait for it; each id once.
	Claim(ctx context.Context, id string, wait time.Duration) (io.ReadWriteCloser, error)
}

const (
	// DefaultPath is the guest's PATH, used when the request's env has none.
	DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	// DefaultStreamWait and MaxStreamWait bound ExecRequest.stream_wait_ms.
	DefaultStreamWait = 10 * time.Second
	MaxStreamWait     = 60 * time.Second
	// MaxFinished is how many finished processes' results are kept.
	MaxFinished = 1024

	maxIDLen    = 1024
	defaultRows = 24
	defaultCols = 80
)

// Manager runs and tracks guest processes; all methods are safe for concurrent use.
type Manager struct {
	streams StreamSource
	reaper  *reaper.Reaper
	log     *log.Logger
	roots   *roots
	cgroups *workload.Subtree              // nil: execs stay in the agent's cgroup
	spawn   func(start func() error) error // runs each start (workload.OOMScore.Spawn)

	mu       sync.Mutex
	procs    map[string]*proc
	reserved map[string]bool
	finished []*proc // finished procs in finishing order, for eviction
}

// NewManager returns a Manager that claims streams from streams and starts processes
// through r (whose Run must be running). log may be nil.
func NewManager(streams StreamSource, r *reaper.Reaper, l *log.Logger) *Manager {
	if l == nil {
		l = log.New(io.Discard, "", 0)
	}
	return &Manager{streams: streams, reaper: r, log: l, roots: newRoots(OSMounter{}),
		spawn: func(start func() error) error { return start() },
		procs: make(map[string]*proc), reserved: make(map[string]bool)}
}

// Confine makes every later exec start in a cgroup of its own below cgroups (born there:
// CLONE_INTO_CGROUP), with the request's limits, and its start run by spawn (nil: as is),
// which lets the child not inherit the agent's oom_score_adj. Call it before serving.
func (m *Manager) Confine(cgroups *workload.Subtree, spawn func(start func() error) error) {
	m.cgroups = cgroups
	if spawn != nil {
		m.spawn = spawn
	}
}

// proc is one started guest process.
type proc struct {
	id       string
	pid      int
	terminal bool
	sigMu    sync.RWMutex   // Signal (read) vs Release (write) of process
	process  *os.Process    // signals go through its pidfd; nil once released
	leaf     *workload.Leaf // its cgroup; nil without Confine
	master   *os.File       // pty master (terminal), closed after the drain
	stdin    io.Writer      // where stdin goes: the pipe's write end or the master
	stdinW   *os.File       // pipe write end (non-terminal with a stdin stream)
	streams  []*stream

	stdinMu     sync.Mutex
	stdinClosed bool

	hostKilled atomic.Bool // the host sent it SIGKILL (Signal, SignalAll): not an OOM kill

	exited chan struct{} // closed when the exit is known
	done   chan struct{} // closed when exited and drained; result is then set
	result *agentpb.WaitResponse
}

func (m *Manager) lookup(id string) (*proc, error) {
	m.mu.Lock()
	p := m.procs[id]
	m.mu.Unlock()
	if p == nil {
		return nil, status.Errorf(codes.NotFound, "no process with exec id %q", id)
	}
	return p, nil
}

// closeStdin ends the process's stdin once: closes the pipe, or writes ^D to the pty.
// Neither happens under stdinMu: the ^D write can block on a full tty input queue until
// supervise closes the master (os.File makes that concurrent Close safe).
func (p *proc) closeStdin() {
	p.stdinMu.Lock()
	already := p.stdinClosed
	p.stdinClosed = true
	p.stdinMu.Unlock()
	if already {
		return
	}
	if p.stdinW != nil {
		p.stdinW.Close()
	}
	if p.master != nil {
		_, _ = p.master.Write([]byte{4}) // VEOF; fails harmlessly once the master is closed
	}
}

// Wait blocks until the process exited and its output was drained.
func (m *Manager) Wait(ctx context.Context, req *agentpb.WaitRequest) (*agentpb.WaitResponse, error) {
	p, err := m.lookup(req.GetExecId())
	if err != nil {
		return nil, err
	}
	select {
	case <-p.done:
		return p.result, nil
	case <-ctx.Done():
		return nil, status.FromContextError(ctx.Err()).Err()
	}
}

// Exited returns a channel closed once the process exec id has exited (NOT_FOUND when
// there is no such process).
func (m *Manager) Exited(id string) (<-chan struct{}, error) {
	p, err := m.lookup(id)
	if err != nil {
		return nil, err
	}
	return p.exited, nil
}

// ResizePty sets the terminal size of a terminal exec.
func (m *Manager) ResizePty(ctx context.Context, req *agentpb.ResizePtyRequest) (*agentpb.ResizePtyResponse, error) {
	p, err := m.lookup(req.GetExecId())
	if err != nil {
		return nil, err
	}
	if !p.terminal {
		return nil, status.Errorf(codes.FailedPrecondition, "exec %q has no terminal", p.id)
	}
	if req.Rows == 0 || req.Cols == 0 || req.Rows > 0xffff || req.Cols > 0xffff {
		return nil, status.Errorf(codes.InvalidArgument, "terminal size %dx%d out of range 1..65535", req.Rows, req.Cols)
	}
	if err := setWinsize(p.master, uint16(req.Rows), uint16(req.Cols)); err != nil {
		select {
		case <-p.done: // the master was closed after the drain
			return nil, status.Errorf(codes.FailedPrecondition, "exec %q has finished", p.id)
		default:
		}
		return nil, status.Errorf(codes.Internal, "resize: %v", err)
	}
	return &agentpb.ResizePtyResponse{}, nil
}

// CloseStdin ends the process's stdin; see the package comment.
func (m *Manager) CloseStdin(ctx context.Context, req *agentpb.CloseStdinRequest) (*agentpb.CloseStdinResponse, error) {
	p, err := m.lookup(req.GetExecId())
	if err != nil {
		return nil, err
	}
	if p.stdin != nil {
		p.closeStdin()
	}
	return &agentpb.CloseStdinResponse{}, nil
}
