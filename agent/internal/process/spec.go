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
}

func invalid(format string, a ...any) error {
	return status.Errorf(codes.InvalidArgument, format, a...)
}

func validate(req *agentpb.ExecRequest) (*spec, error) {
	if req == nil {
		return nil, invalid("empty request")
	}
	if req.ExecId == "" || len(req.ExecId) > maxIDLen {
		return nil, invalid("exec_id must be 1..%d bytes", maxIDLen)
	}
	if len(req.Args) == 0 || req.Args[0] == "" {
		return nil, invalid("args must not be empty")
	}
	for _, a := range req.Args {
		if strings.IndexByte(a, 0) >= 0 {
			return nil, invalid("args must not contain NUL bytes")
		}
	}
	s := &spec{args: req.Args, path: DefaultPath}
	for _, kv := range req.Env {
		if i := strings.IndexByte(kv, '='); i <= 0 || strings.IndexByte(kv, 0) >= 0 {
			return nil, invalid("env entry %q is not KEY=VALUE", kv)
		}
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			s.path = v // the last one wins, as for getenv
		}
	}
	if len(req.Env) > 0 {
		s.env = req.Env
	} else {
		home, term := "/", "dumb"
		if req.Uid == 0 {
			home = "/root"
		}
		if req.Terminal {
			term = "xterm-256color"
		}
		// Never nil: a nil Env would hand the child the agent's own environment.
		s.env = []string{"PATH=" + DefaultPath, "HOME=" + home, "TERM=" + term}
	}

	if req.Rootfs != "" {
		if !filepath.IsAbs(req.Rootfs) || strings.IndexByte(req.Rootfs, 0) >= 0 {
			return nil, invalid("rootfs %q must be an absolute path", req.Rootfs)
		}
		s.rootfs = filepath.Clean(req.Rootfs)
		st, err := os.Stat(s.rootfs)
		if err != nil {
			if os.IsNotExist(err) {
				return nil, status.Errorf(codes.InvalidArgument, "rootfs %q does not exist", s.rootfs)
			}
			return nil, invalid("rootfs %q: %v", s.rootfs, err)
		}
		if !st.IsDir() {
			return nil, invalid("rootfs %q is not a directory", s.rootfs)
		}
	}

	s.cwd = req.Cwd
	if s.cwd == "" {
		s.cwd = "/"
	}
	if !filepath.IsAbs(s.cwd) || strings.IndexByte(s.cwd, 0) >= 0 {
		return nil, invalid("cwd %q must be an absolute path", req.Cwd)
	}
	st, err := os.Stat(s.inRoot(s.cwd))
	if err != nil {
		if os.IsNotExist(err) {
			// not NOT_FOUND: that code means "no such executable" to callers (exit 127)
			return nil, status.Errorf(codes.InvalidArgument, "cwd %q does not exist", s.cwd)
		}
		return nil, invalid("cwd %q: %v", s.cwd, err)
	}
	if !st.IsDir() {
		return nil, invalid("cwd %q is not a directory", s.cwd)
	}

	// As root (the agent), always set the credentials, which also sets exactly the
	// requested supplementary groups. Unprivileged (tests), only when they differ.
	if os.Geteuid() == 0 || int(req.Uid) != os.Geteuid() || int(req.Gid) != os.Getegid() || len(req.AdditionalGids) > 0 {
		s.cred = &syscall.Credential{Uid: req.Uid, Gid: req.Gid, Groups: req.AdditionalGids}
		if s.cred.Groups == nil {
			s.cred.Groups = []uint32{}
		}
	}

	if req.Terminal {
		if req.StderrStream != "" {
			return nil, invalid("stderr_stream must be empty with terminal: stderr is merged into the pty")
		}
		if req.Rows > 0xffff || req.Cols > 0xffff {
			return nil, invalid("terminal size %dx%d out of range", req.Rows, req.Cols)
		}
		s.rows, s.cols = uint16(req.Rows), uint16(req.Cols)
		if s.rows == 0 {
			s.rows = defaultRows
		}
		if s.cols == 0 {
			s.cols = defaultCols
		}
	}
	for _, id := range []string{req.StdinStream, req.StdoutStream, req.StderrStream} {
		if len(id) > maxIDLen {
			return nil, invalid("stream id longer than %d bytes", maxIDLen)
		}
	}

	s.streamWait = DefaultStreamWait
	if req.StreamWaitMs > 0 {
		s.streamWait = min(time.Duration(req.StreamWaitMs)*time.Millisecond, MaxStreamWait)
	}
	return s, nil
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
