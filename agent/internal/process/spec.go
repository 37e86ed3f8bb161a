package process

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"vessel.dev/agent/internal/agentpb"
	"vessel.dev/agent/internal/workload"
)

// spec is a validated ExecRequest.
type spec struct {
	args       []string
	env        []string
	path       string // PATH used to resolve args[0]
	cwd        string
	cred       *syscall.Credential // nil: keep the agent's own
	rootfs     string              // "": the guest's root; else chroot here (clean, absolute)
	rows, cols uint16
	streamWait time.Duration
	limits     workload.Limits // of the exec's own cgroup; zero: none
}

func invalid(format string, a ...any) error {
	return status.Errorf(codes.InvalidArgument, format, a...)
}

// validate checks an ExecRequest and turns it into a spec, one step per part of the
// request, in this order (the first failing step's error is returned): the exec id and
// args, the environment, the rootfs, the cwd (inside the rootfs), the credentials, the
// terminal, the stream ids and how long to wait for them, the cgroup limits. Errors are
// INVALID_ARGUMENT.
func validate(req *agentpb.ExecRequest) (*spec, error) {
	if req == nil {
		return nil, invalid("empty request")
	}
	s := &spec{}
	for _, step := range []func(*agentpb.ExecRequest) error{
		s.setArgs,
		s.setEnv,
		s.setRootfs,
		s.setCwd,
		s.setCredentials,
		s.setTerminal,
		s.setStreams,
		s.setLimits,
	} {
		if err := step(req); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// setArgs checks exec_id (1..maxIDLen bytes) and args (a non-empty args[0], no NUL).
func (s *spec) setArgs(req *agentpb.ExecRequest) error {
	if req.ExecId == "" || len(req.ExecId) > maxIDLen {
		return invalid("exec_id must be 1..%d bytes", maxIDLen)
	}
	if len(req.Args) == 0 || req.Args[0] == "" {
		return invalid("args must not be empty")
	}
	for _, a := range req.Args {
		if strings.IndexByte(a, 0) >= 0 {
			return invalid("args must not contain NUL bytes")
		}
	}
	s.args = req.Args
	return nil
}

// setEnv checks env (KEY=VALUE entries) and takes the PATH that resolves args[0] from
// it; an empty env becomes the default PATH, HOME and TERM (never the agent's own).
func (s *spec) setEnv(req *agentpb.ExecRequest) error {
	s.path = DefaultPath
	for _, kv := range req.Env {
		if i := strings.IndexByte(kv, '='); i <= 0 || strings.IndexByte(kv, 0) >= 0 {
			return invalid("env entry %q is not KEY=VALUE", kv)
		}
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			s.path = v // the last one wins, as for getenv
		}
	}
	if len(req.Env) > 0 {
		s.env = req.Env
		return nil
	}
	home, term := "/", "dumb"
	if req.Uid == 0 {
		home = "/root"
	}
	if req.Terminal {
		term = "xterm-256color"
	}
	// Never nil: a nil Env would hand the child the agent's own environment.
	s.env = []string{"PATH=" + DefaultPath, "HOME=" + home, "TERM=" + term}
	return nil
}

// setRootfs checks rootfs: empty, or an existing directory by absolute path (cleaned).
func (s *spec) setRootfs(req *agentpb.ExecRequest) error {
	if req.Rootfs == "" {
		return nil
	}
	if !filepath.IsAbs(req.Rootfs) || strings.IndexByte(req.Rootfs, 0) >= 0 {
		return invalid("rootfs %q must be an absolute path", req.Rootfs)
	}
	s.rootfs = filepath.Clean(req.Rootfs)
	st, err := os.Stat(s.rootfs)
	if err != nil {
		if os.IsNotExist(err) {
			return status.Errorf(codes.InvalidArgument, "rootfs %q does not exist", s.rootfs)
		}
		return invalid("rootfs %q: %v", s.rootfs, err)
	}
	if !st.IsDir() {
		return invalid("rootfs %q is not a directory", s.rootfs)
	}
	return nil
}

// setCwd checks cwd (default "/"): an existing directory by absolute path, inside the
// rootfs when there is one.
func (s *spec) setCwd(req *agentpb.ExecRequest) error {
	s.cwd = req.Cwd
	if s.cwd == "" {
		s.cwd = "/"
	}
	if !filepath.IsAbs(s.cwd) || strings.IndexByte(s.cwd, 0) >= 0 {
		return invalid("cwd %q must be an absolute path", req.Cwd)
	}
	st, err := os.Stat(s.inRoot(s.cwd))
	if err != nil {
		if os.IsNotExist(err) {
			// not NOT_FOUND: that code means "no such executable" to callers (exit 127)
			return status.Errorf(codes.InvalidArgument, "cwd %q does not exist", s.cwd)
		}
		return invalid("cwd %q: %v", s.cwd, err)
	}
	if !st.IsDir() {
		return invalid("cwd %q is not a directory", s.cwd)
	}
	return nil
}

// setCredentials decides the process's uid, gid and supplementary groups. As root (the
// agent), they are always set, which also sets exactly the requested supplementary
// groups. Unprivileged (tests), only when they differ from the agent's own.
func (s *spec) setCredentials(req *agentpb.ExecRequest) error {
	if os.Geteuid() == 0 || int(req.Uid) != os.Geteuid() || int(req.Gid) != os.Getegid() || len(req.AdditionalGids) > 0 {
		s.cred = &syscall.Credential{Uid: req.Uid, Gid: req.Gid, Groups: req.AdditionalGids}
		if s.cred.Groups == nil {
			s.cred.Groups = []uint32{}
		}
	}
	return nil
}

// setTerminal checks the terminal options: no separate stderr stream (merged into the
// pty), a size within 0..65535 (0: the default 24x80).
func (s *spec) setTerminal(req *agentpb.ExecRequest) error {
	if !req.Terminal {
		return nil
	}
	if req.StderrStream != "" {
		return invalid("stderr_stream must be empty with terminal: stderr is merged into the pty")
	}
	if req.Rows > 0xffff || req.Cols > 0xffff {
		return invalid("terminal size %dx%d out of range", req.Rows, req.Cols)
	}
	s.rows, s.cols = uint16(req.Rows), uint16(req.Cols)
	if s.rows == 0 {
		s.rows = defaultRows
	}
	if s.cols == 0 {
		s.cols = defaultCols
	}
	return nil
}

// setStreams checks the stream ids' length and bounds stream_wait_ms (0: the default).
func (s *spec) setStreams(req *agentpb.ExecRequest) error {
	for _, id := range []string{req.StdinStream, req.StdoutStream, req.StderrStream} {
		if len(id) > maxIDLen {
			return invalid("stream id longer than %d bytes", maxIDLen)
		}
	}
	s.streamWait = DefaultStreamWait
	if req.StreamWaitMs > 0 {
		s.streamWait = min(time.Duration(req.StreamWaitMs)*time.Millisecond, MaxStreamWait)
	}
	return nil
}

// MinMemoryMax is the least memory_max_bytes an exec may ask for (0 asks for none).
const MinMemoryMax = 1 << 20

// setLimits checks the exec's own cgroup limits: memory_max_bytes 0 or at least MinMemoryMax.
func (s *spec) setLimits(req *agentpb.ExecRequest) error {
	if req.MemoryMaxBytes > 0 && req.MemoryMaxBytes < MinMemoryMax {
		return invalid("memory_max_bytes %d is below %d (1 MiB); 0 sets none", req.MemoryMaxBytes, MinMemoryMax)
	}
	s.limits = workload.Limits{MemoryMax: req.MemoryMaxBytes, PidsMax: uint64(req.PidsMax)}
	return nil
}

// inRoot is where the process's path p is seen from the agent (p joined to rootfs).
// Symlinks are followed from the agent's root: an absolute link inside a rootfs is
// checked against the guest's tree, and the exec itself then reports what is missing.
func (s *spec) inRoot(p string) string {
	if s.rootfs == "" {
		return p
	}
	return filepath.Join(s.rootfs, p)
}

// lookPath resolves name: with a '/', as a path (relative to cwd); otherwise in the
// absolute directories of path. Paths are the process's (inside rootfs, which root
// maps to the agent's view). Errors are NOT_FOUND / INVALID_ARGUMENT statuses.
func lookPath(name, cwd, path string, root func(string) string) (string, error) {
	if strings.Contains(name, "/") {
		p := name
		if !filepath.IsAbs(p) {
			p = filepath.Join(cwd, p)
		}
		if err := checkExecutable(p, root(p)); err != nil {
			return "", err
		}
		return p, nil
	}
	for _, dir := range filepath.SplitList(path) {
		if !filepath.IsAbs(dir) {
			continue // never resolve through relative PATH entries
		}
		p := filepath.Join(dir, name)
		if checkExecutable(p, root(p)) == nil {
			return p, nil
		}
	}
	return "", status.Errorf(codes.NotFound, "executable %q not found in PATH %q", name, path)
}

// checkExecutable checks the file at host (the agent's view of p); messages name p.
func checkExecutable(p, host string) error {
	st, err := os.Stat(host)
	if err != nil {
		if os.IsNotExist(err) {
			return status.Errorf(codes.NotFound, "executable %q does not exist", p)
		}
		return invalid("executable %q: %v", p, err)
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return invalid("%q is not an executable file", p)
	}
	return nil
}
