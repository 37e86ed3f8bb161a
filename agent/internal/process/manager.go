// Package process runs the host's processes in the guest: the Exec, Wait, Signal,
// ResizePty and CloseStdin calls of vessel.agent.v1.Agent.
//
// Contract:
//   - Exec validates the request, reserves exec_id (ALREADY_EXISTS while a process with
//     that id is running or still draining; the id of a finished process may be reused,
//     which replaces its kept result), claims each distinct named stream once (waiting up
//     to stream_wait_ms, default 10 s, at most 60 s; DEADLINE_EXCEEDED when one does not
//     arrive), and starts the process through the reaper: in its own process group, or,
//     with terminal, in its own session with a new pty as controlling terminal (stdin and
//     stdout are the pty, stderr is merged; stderr_stream must then be empty). Streams
//     are copied with fixed 32 KiB buffers; stdout/stderr streams get CloseWrite (FIN)
//     when the process side reaches EOF (a stream serving both stdout and stderr: when
//     both did). A stream whose host side fails is drained to nowhere so the process never
//     blocks on it.
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
//   - Once a process finished, every fd and goroutine it used is released (the pty master
//     after the drain); streams are closed.
package process

import (
	"context"
	"errors"
	"io"
	"log"
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

	maxIDLen = 1024
	// copyBufSize is how much one stdin/stdout copy moves per read and write (see
	// streamPipeSize); well below the pipe's capacity, so the process and the copy both
	// make progress without the pipe running dry or full on every call.
	copyBufSize = 128 << 10
	defaultRows = 24
	defaultCols = 80
)

// Manager runs and tracks processes; all methods are safe for concurrent use.
type Manager struct {
	streams StreamSource
	reaper  *reaper.Reaper
	log     *log.Logger
	roots   *roots

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
		procs: make(map[string]*proc), reserved: make(map[string]bool)}
}

// proc is one started process.
type proc struct {
	id       string
	pid      int
	terminal bool
	sigMu    sync.RWMutex // Signal (read) vs Release (write) of process
	process  *os.Process  // signals go through its pidfd; nil once released
	master   *os.File     // pty master (terminal), closed after the drain
	stdin    io.Writer    // where stdin goes: the pipe's write end or the master
	stdinW   *os.File     // pipe write end (non-terminal with a stdin stream)
	streams  []*stream

	stdinMu     sync.Mutex
	stdinClosed bool

	exited chan struct{} // closed when the exit is known
	done   chan struct{} // closed when exited and drained; result is then set
	result *agentpb.WaitResponse
}

// stream is one claimed stream, possibly serving several roles.
type stream struct {
	id      string
	rwc     io.ReadWriteCloser
	mu      sync.Mutex
	writers int // stdout/stderr roles not yet at EOF
}

// doneWriting is called by each output copy at EOF; the last one sends FIN.
func (s *stream) doneWriting(l *log.Logger) {
	s.mu.Lock()
	s.writers--
	last := s.writers == 0
	s.mu.Unlock()
	if !last {
		return
	}
	if cw, ok := s.rwc.(interface{ CloseWrite() error }); ok {
		if err := cw.CloseWrite(); err != nil {
			l.Printf("stream %q: close write: %v", s.id, err)
		}
	}
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

// Exec starts a process; see the package comment.
func (m *Manager) Exec(ctx context.Context, req *agentpb.ExecRequest) (*agentpb.ExecResponse, error) {
	spec, err := validate(req)
	if err != nil {
		return nil, err
	}
	if err := m.reserve(req.ExecId); err != nil {
		return nil, err
	}
	started := false
	defer func() {
		if !started {
			m.mu.Lock()
			delete(m.reserved, req.ExecId)
			m.mu.Unlock()
		}
	}()

	path, err := lookPath(spec.args[0], spec.cwd, spec.path, spec.inRoot)
	if err != nil {
		return nil, err
	}
	if spec.rootfs != "" {
		if err := m.roots.prepare(spec.rootfs); err != nil {
			return nil, err
		}
	}
	claimed, byID, err := m.claim(ctx, req, spec.streamWait)
	if err != nil {
		return nil, err
	}
	closeClaimed := func() {
		for _, s := range claimed {
			_ = s.rwc.Close()
		}
	}

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
	p := &proc{id: req.ExecId, terminal: req.Terminal, streams: claimed,
		exited: make(chan struct{}), done: make(chan struct{})}
	var childFiles []*os.File // the child's ends, closed here once it started
	var outputs []outCopy
	fail := func(err error) (*agentpb.ExecResponse, error) {
		for _, f := range childFiles {
			f.Close()
		}
		for _, o := range outputs {
			o.src.Close()
		}
		if p.master != nil {
			p.master.Close()
		}
		if p.stdinW != nil {
			p.stdinW.Close()
		}
		closeClaimed()
		return nil, err
	}

	if req.Terminal {
		master, slave, err := openPty()
		if err != nil {
			return fail(status.Errorf(codes.Internal, "pty: %v", err))
		}
		p.master = master
		childFiles = append(childFiles, slave)
		if spec.cred != nil { // the terminal belongs to its user, as login(1) does it
			_ = slave.Chown(int(spec.cred.Uid), int(spec.cred.Gid))
		}
		if err := setWinsize(master, spec.rows, spec.cols); err != nil {
			return fail(status.Errorf(codes.Internal, "pty size: %v", err))
		}
		cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
		cmd.SysProcAttr.Setsid = true
		cmd.SysProcAttr.Setctty = true
		cmd.SysProcAttr.Ctty = 0 // the child's fd 0, the slave
		p.stdin = newRawFile(master)
		// Always drained, so the process never blocks on a full pty; nil dst discards.
		outputs = append(outputs, outCopy{src: master, dst: byID[req.StdoutStream], pty: true})
	} else {
		cmd.SysProcAttr.Setpgid = true
		if byID[req.StdinStream] != nil {
			r, w, err := newStreamPipe()
			if err != nil {
				return fail(status.Errorf(codes.Internal, "stdin pipe: %v", err))
			}
			childFiles = append(childFiles, r)
			cmd.Stdin, p.stdinW, p.stdin = r, w, newRawFile(w)
		}
		for _, role := range []struct {
			id  string
			set func(*os.File)
		}{
			{req.StdoutStream, func(f *os.File) { cmd.Stdout = f }},
			{req.StderrStream, func(f *os.File) { cmd.Stderr = f }},
		} {
			s := byID[role.id]
			if s == nil {
				continue // nil: os/exec gives the child /dev/null
			}
			r, w, err := newStreamPipe()
			if err != nil {
				return fail(status.Errorf(codes.Internal, "output pipe: %v", err))
			}
			childFiles = append(childFiles, w)
			outputs = append(outputs, outCopy{src: r, dst: s})
			role.set(w)
		}
	}

	exitCh, err := m.reaper.Start(cmd)
	if err != nil {
		return fail(startError(path, err))
	}
	for _, f := range childFiles {
		f.Close()
	}
	p.pid = cmd.Process.Pid
	p.process = cmd.Process

	// Output copies first, so nothing the process writes waits on us.
	var outWG sync.WaitGroup
	for _, o := range outputs {
		outWG.Add(1)
		go func(o outCopy) {
			defer outWG.Done()
			m.copyOut(p, o)
		}(o)
	}
	if s := byID[req.StdinStream]; s != nil {
		go m.copyIn(p, s)
	}

	m.mu.Lock()
	delete(m.reserved, req.ExecId)
	m.procs[req.ExecId] = p
	m.mu.Unlock()
	started = true
	go m.supervise(p, exitCh, &outWG)
	m.log.Printf("exec %q: pid %d %q", req.ExecId, p.pid, spec.args)
	return &agentpb.ExecResponse{Pid: uint32(p.pid)}, nil
}

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
	}
	return status.Errorf(codes.Internal, "exec %s: %v", path, err)
}

type outCopy struct {
	src *os.File // pipe read end, or the pty master
	dst *stream  // nil: discard
	pty bool
}

// copyOut drains src into the stream until EOF (EIO on a pty master whose slave side
// is closed), then ends the stream's write side. A failing stream is drained to nowhere.
func (m *Manager) copyOut(p *proc, o outCopy) {
	buf := make([]byte, copyBufSize)
	writeOK := o.dst != nil
	src := newRawFile(o.src)
	for {
		n, err := src.Read(buf)
		if n > 0 && writeOK {
			if _, werr := o.dst.rwc.Write(buf[:n]); werr != nil {
				m.log.Printf("exec %q: stream %q write: %v (discarding further output)", p.id, o.dst.id, werr)
				writeOK = false
			}
		}
		if err != nil {
			if err != io.EOF && !(o.pty && errors.Is(err, unix.EIO)) {
				m.log.Printf("exec %q: output read: %v", p.id, err)
			}
			break
		}
	}
	if !o.pty { // the master is closed by supervise, after every copy ended
		o.src.Close()
	}
	if o.dst != nil {
		o.dst.doneWriting(m.log)
	}
}

// copyIn copies the stdin stream to the process until the stream ends (then stdin is
// closed) and discards what arrives after stdin was closed.
func (m *Manager) copyIn(p *proc, s *stream) {
	buf := make([]byte, copyBufSize)
	for {
		n, err := s.rwc.Read(buf)
		if n > 0 {
			p.stdinMu.Lock()
			closed := p.stdinClosed
			p.stdinMu.Unlock()
			if !closed {
				// Not under stdinMu: the write may block while the process does not read,
				// and CloseStdin must still be able to close the pipe under it.
				if _, werr := p.stdin.Write(buf[:n]); werr != nil && !errors.Is(werr, os.ErrClosed) {
					m.log.Printf("exec %q: stdin write: %v", p.id, werr)
				}
			}
		}
		if err != nil {
			break
		}
	}
	p.closeStdin()
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
	m.log.Printf("exec %q: pid %d finished: exit %d signal %d", p.id, p.pid, res.ExitCode, res.Signal)
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

// Signal signals the process or its group; see the package comment.
func (m *Manager) Signal(ctx context.Context, req *agentpb.SignalRequest) (*agentpb.SignalResponse, error) {
	p, err := m.lookup(req.GetExecId())
	if err != nil {
		return nil, err
	}
	if req.Signal < 0 || req.Signal > 64 {
		return nil, status.Errorf(codes.InvalidArgument, "signal %d out of range 0..64", req.Signal)
	}
	sig := unix.Signal(req.Signal)
	if req.Group {
		select {
		case <-p.done:
			return nil, status.Errorf(codes.FailedPrecondition, "exec %q has finished", p.id)
		default:
		}
		if err := unix.Kill(-p.pid, sig); err != nil {
			if err == unix.ESRCH {
				return nil, status.Errorf(codes.FailedPrecondition, "process group %d of exec %q has no processes left", p.pid, p.id)
			}
			return nil, status.Errorf(codes.Internal, "kill(-%d, %d): %v", p.pid, sig, err)
		}
		return &agentpb.SignalResponse{}, nil
	}
	select {
	case <-p.exited:
		return nil, status.Errorf(codes.FailedPrecondition, "process %d of exec %q has exited", p.pid, p.id)
	default:
	}
	p.sigMu.RLock()
	err = os.ErrProcessDone
	if p.process != nil {
		err = p.process.Signal(sig)
	}
	p.sigMu.RUnlock()
	if err != nil {
		if errors.Is(err, os.ErrProcessDone) {
			return nil, status.Errorf(codes.FailedPrecondition, "process %d of exec %q has exited", p.pid, p.id)
		}
		return nil, status.Errorf(codes.Internal, "signal %d to pid %d: %v", sig, p.pid, err)
	}
	return &agentpb.SignalResponse{}, nil
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
