package process

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"vessel.dev/agent/internal/agentpb"
	"vessel.dev/agent/internal/reaper"
	"vessel.dev/agent/internal/workload"
)

// Exec starts a guest process; see the package comment. Its steps: validate the
// request, reserve the exec id, launch (find the executable, claim the streams, build the
// command and its stdio, start it), then register it (copies, tracking, supervision).
func (m *Manager) Exec(ctx context.Context, req *agentpb.ExecRequest) (*agentpb.ExecResponse, error) {
	spec, err := validate(req)
	if err != nil {
		return nil, err
	}
	if err := m.reserve(req.ExecId); err != nil {
		return nil, err
	}
	l, exitCh, err := m.launch(ctx, req, spec)
	if err != nil {
		m.unreserve(req.ExecId)
		return nil, err
	}
	m.register(l, exitCh)
	m.log.Printf("exec %q: pid %d %q", req.ExecId, l.p.pid, spec.args)
	return &agentpb.ExecResponse{Pid: uint32(l.p.pid)}, nil
}

// reserve holds id for one Exec until it is registered or unreserved: ALREADY_EXISTS
// while another Exec with id is starting, or its process is running or draining.
func (m *Manager) reserve(id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.reserved[id] {
		return status.Errorf(codes.AlreadyExists, "exec id %q is being started", id)
	}
	if p := m.procs[id]; p != nil {
		select {
		case <-p.done:
		default:
			return status.Errorf(codes.AlreadyExists, "exec id %q is in use by pid %d", id, p.pid)
		}
	}
	m.reserved[id] = true
	return nil
}

// unreserve releases id after an Exec that did not start its process.
func (m *Manager) unreserve(id string) {
	m.mu.Lock()
	delete(m.reserved, id)
	m.mu.Unlock()
}

// launching is one Exec from its claimed streams until its process started: what it has
// opened so far, all of which abort closes when the process does not start.
type launching struct {
	p          *proc
	cmd        *exec.Cmd
	stdin      *stream    // the stdin stream; nil: none
	outputs    []outCopy  // the process's output ends, each copied to its stream
	childFiles []*os.File // the child's ends, closed here once it started
}

// launch finds the executable, claims the streams, builds the command with its stdio
// and starts it through the reaper. On failure everything it opened is closed.
func (m *Manager) launch(ctx context.Context, req *agentpb.ExecRequest, spec *spec) (*launching, <-chan reaper.Exit, error) {
	if m.cgroups == nil && spec.limits != (workload.Limits{}) {
		return nil, nil, status.Errorf(codes.Unimplemented, "memory_max_bytes and pids_max need the agent's cgroups (the agent as PID 1 in a guest)")
	}
	path, err := m.locate(spec)
	if err != nil {
		return nil, nil, err
	}
	claimed, byID, err := m.claim(ctx, req, spec.streamWait)
	if err != nil {
		return nil, nil, err
	}
	l := &launching{
		p: &proc{id: req.ExecId, terminal: req.Terminal, streams: claimed,
			exited: make(chan struct{}), done: make(chan struct{})},
		cmd:   newCommand(path, spec),
		stdin: byID[req.StdinStream],
	}
	if req.Terminal {
		err = l.wireTerminal(spec, byID[req.StdoutStream])
	} else {
		err = l.wirePipes(byID[req.StdoutStream], byID[req.StderrStream])
	}
	if err != nil {
		l.abort()
		return nil, nil, err
	}
	if err := l.place(m.cgroups, spec.limits); err != nil {
		l.abort()
		return nil, nil, err
	}
	var exitCh <-chan reaper.Exit
	err = m.spawn(func() (err error) {
		exitCh, err = m.reaper.Start(l.cmd)
		return err
	})
	if err != nil {
		l.abort()
		return nil, nil, startError(path, err)
	}
	l.started()
	return l, exitCh, nil
}

// place makes the process's own cgroup below cgroups (nil: none) with limits, and has the
// process born in it (CLONE_INTO_CGROUP).
func (l *launching) place(cgroups *workload.Subtree, limits workload.Limits) error {
	if cgroups == nil {
		return nil
	}
	leaf, err := cgroups.NewLeaf(limits)
	if err != nil {
		return status.Errorf(codes.Internal, "exec cgroup: %v", err)
	}
	l.p.leaf = leaf
	l.cmd.SysProcAttr.UseCgroupFD = true
	l.cmd.SysProcAttr.CgroupFD = leaf.FD()
	return nil
}

// locate resolves args[0] to the executable's path (as the process sees it) and, with a
// rootfs, prepares the rootfs's mounts.
func (m *Manager) locate(spec *spec) (string, error) {
	path, err := lookPath(spec.args[0], spec.cwd, spec.path, spec.inRoot)
	if err != nil {
		return "", err
	}
	if spec.rootfs != "" {
		if err := m.roots.prepare(spec.rootfs); err != nil {
			return "", err
		}
	}
	return path, nil
}

// claim claims each distinct named stream once within one overall deadline.
func (m *Manager) claim(ctx context.Context, req *agentpb.ExecRequest, wait time.Duration) ([]*stream, map[string]*stream, error) {
	byID := map[string]*stream{}
	var list []*stream
	deadline := time.Now().Add(wait)
	for _, role := range []struct {
		id     string
		writer bool
	}{{req.StdinStream, false}, {req.StdoutStream, true}, {req.StderrStream, true}} {
		if role.id == "" {
			continue
		}
		s := byID[role.id]
		if s == nil {
			rwc, err := m.streams.Claim(ctx, role.id, max(time.Until(deadline), 0))
			if err != nil {
				for _, c := range list {
					_ = c.rwc.Close()
				}
				return nil, nil, claimError(role.id, err)
			}
			s = &stream{id: role.id, rwc: rwc}
			byID[role.id] = s
			list = append(list, s)
		}
		if role.writer {
			s.writers++
		}
	}
	return list, byID, nil
}

// newCommand builds the command without its stdio: the executable, args, env, cwd,
// credentials and, with a rootfs, its own mount namespace chrooted there.
func newCommand(path string, spec *spec) *exec.Cmd {
	cmd := &exec.Cmd{Path: path, Args: spec.args, Env: spec.env, Dir: spec.cwd,
		SysProcAttr: &syscall.SysProcAttr{}}
	if spec.cred != nil {
		cmd.SysProcAttr.Credential = spec.cred
	}
	if spec.rootfs != "" {
		// Its own mount namespace (a copy of the agent's, with the root's mounts), then
		// chroot; Dir and Path are then the process's own paths.
		cmd.SysProcAttr.Cloneflags = unix.CLONE_NEWNS
		cmd.SysProcAttr.Chroot = spec.rootfs
	}
	return cmd
}

// wireTerminal gives the command a new pty as stdin, stdout, stderr and controlling
// terminal, in its own session. The master is always drained (to stdout, or discarded
// when stdout is nil), so the process never blocks on a full pty.
func (l *launching) wireTerminal(spec *spec, stdout *stream) error {
	master, slave, err := openPty()
	if err != nil {
		return status.Errorf(codes.Internal, "pty: %v", err)
	}
	l.p.master = master
	l.childFiles = append(l.childFiles, slave)
	if spec.cred != nil { // the terminal belongs to its user, as login(1) does it
		_ = slave.Chown(int(spec.cred.Uid), int(spec.cred.Gid))
	}
	if err := setWinsize(master, spec.rows, spec.cols); err != nil {
		return status.Errorf(codes.Internal, "pty size: %v", err)
	}
	cmd := l.cmd
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr.Setsid = true
	cmd.SysProcAttr.Setctty = true
	cmd.SysProcAttr.Ctty = 0 // the child's fd 0, the slave
	l.p.stdin = newRawFile(master)
	l.outputs = append(l.outputs, outCopy{src: master, dst: stdout, pty: true})
	return nil
}

// wirePipes puts the command in its own process group and gives it a pipe for each
// named stream (stdin from l.stdin, stdout, stderr); a role without a stream gets
// /dev/null (os/exec's default for nil).
func (l *launching) wirePipes(stdout, stderr *stream) error {
	cmd := l.cmd
	cmd.SysProcAttr.Setpgid = true
	if l.stdin != nil {
		r, w, err := newStreamPipe()
		if err != nil {
			return status.Errorf(codes.Internal, "stdin pipe: %v", err)
		}
		l.childFiles = append(l.childFiles, r)
		cmd.Stdin, l.p.stdinW, l.p.stdin = r, w, newRawFile(w)
	}
	for _, role := range []struct {
		s   *stream
		set func(*os.File)
	}{
		{stdout, func(f *os.File) { cmd.Stdout = f }},
		{stderr, func(f *os.File) { cmd.Stderr = f }},
	} {
		if role.s == nil {
			continue
		}
		r, w, err := newStreamPipe()
		if err != nil {
			return status.Errorf(codes.Internal, "output pipe: %v", err)
		}
		l.childFiles = append(l.childFiles, w)
		l.outputs = append(l.outputs, outCopy{src: r, dst: role.s})
		role.set(w)
	}
	return nil
}

// started closes the child's ends and records the started process.
func (l *launching) started() {
	for _, f := range l.childFiles {
		f.Close()
	}
	l.p.pid = l.cmd.Process.Pid
	l.p.process = l.cmd.Process
}

// abort closes everything opened for a process that did not start: the child's ends,
// the output ends, the pty master, the stdin pipe and the claimed streams.
func (l *launching) abort() {
	for _, f := range l.childFiles {
		f.Close()
	}
	for _, o := range l.outputs {
		o.src.Close()
	}
	if l.p.master != nil {
		l.p.master.Close()
	}
	if l.p.stdinW != nil {
		l.p.stdinW.Close()
	}
	for _, s := range l.p.streams {
		_ = s.rwc.Close()
	}
	if l.p.leaf != nil {
		l.p.leaf.Release()
	}
}

// register starts the stream copies of a started process (output first, so nothing the
// process writes waits on us), tracks it under its exec id in place of the reservation,
// and supervises it until it finished.
func (m *Manager) register(l *launching, exitCh <-chan reaper.Exit) {
	p := l.p
	var outWG sync.WaitGroup
	for _, o := range l.outputs {
		outWG.Add(1)
		go func(o outCopy) {
			defer outWG.Done()
			m.copyOut(p, o)
		}(o)
	}
	if l.stdin != nil {
		go m.copyIn(p, l.stdin)
	}

	m.mu.Lock()
	delete(m.reserved, p.id)
	m.procs[p.id] = p
	m.mu.Unlock()
	go m.supervise(p, exitCh, &outWG)
}

// supervise waits for the exit and the drain, then releases everything and publishes
// the result.
func (m *Manager) supervise(p *proc, exitCh <-chan reaper.Exit, outWG *sync.WaitGroup) {
	e := <-exitCh
	close(p.exited)
	outWG.Wait()

	res := &agentpb.WaitResponse{ExitedAtUnixNano: e.At.UnixNano()}
	if e.Status.Signaled() {
		res.Signal = int32(e.Status.Signal())
		res.ExitCode = 128 + res.Signal // the shell's convention; signal is authoritative
	} else {
		res.ExitCode = int32(e.Status.ExitStatus())
	}
	if p.leaf != nil {
		res.OomKilled = !p.hostKilled.Load() && oomKilled(res, p.leaf)
	}

	p.sigMu.Lock()
	_ = p.process.Release() // closes the pidfd
	p.process = nil
	p.sigMu.Unlock()
	p.stdinMu.Lock()
	p.stdinClosed = true
	p.stdinMu.Unlock()
	if p.stdinW != nil {
		p.stdinW.Close() // a second Close is harmless
	}
	if p.master != nil {
		p.master.Close() // wakes a ^D or stdin write blocked on it
	}
	for _, s := range p.streams {
		_ = s.rwc.Close() // also wakes copyIn's blocked Read
	}

	m.mu.Lock()
	p.result = res
	close(p.done)
	m.finished = append(m.finished, p)
	for len(m.finished) > MaxFinished {
		old := m.finished[0]
		m.finished[0] = nil
		m.finished = m.finished[1:]
		if m.procs[old.id] == old {
			delete(m.procs, old.id)
		}
	}
	m.mu.Unlock()
	m.log.Printf("exec %q: pid %d finished: exit %d signal %d oom_killed %t", p.id, p.pid, res.ExitCode, res.Signal, res.OomKilled)
	if p.leaf != nil {
		p.leaf.Release() // after the result is out: not on the exec's round trip
	}
}

// oomKilled: the process ended by SIGKILL, or with 137 (a shell passing its child's SIGKILL
// on), while its cgroup counted an OOM kill (memory.events is read only then).
func oomKilled(res *agentpb.WaitResponse, leaf *workload.Leaf) bool {
	if res.ExitCode != 128+int32(unix.SIGKILL) {
		return false
	}
	n, err := leaf.OOMKills()
	return err == nil && n > 0
}

func claimError(id string, err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return status.Errorf(codes.DeadlineExceeded, "stream %q did not arrive in time", id)
	case errors.Is(err, context.Canceled):
		return status.Errorf(codes.Canceled, "claiming stream %q: %v", id, err)
	}
	return status.Errorf(codes.Unavailable, "claiming stream %q: %v", id, err)
}

func startError(path string, err error) error {
	switch {
	case errors.Is(err, unix.ENOENT):
		return status.Errorf(codes.NotFound, "exec %s: %v", path, err)
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		return status.Errorf(codes.PermissionDenied, "exec %s: %v", path, err)
	case errors.Is(err, unix.ENOEXEC), errors.Is(err, unix.ENOTDIR), errors.Is(err, unix.EISDIR):
		return status.Errorf(codes.InvalidArgument, "exec %s: %v", path, err)
	case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.ENOMEM):
		return status.Errorf(codes.ResourceExhausted, "exec %s: %v (the guest's workloads are at their task or memory limit)", path, err)
	}
	return status.Errorf(codes.Internal, "exec %s: %v", path, err)
}
