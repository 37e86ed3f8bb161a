package workload

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// MaxIdleLeaves bounds how many empty leaves are kept for later execs.
const MaxIdleLeaves = 8

// Leaf is one exec's cgroup. Its directory, and its two event files once read, stay open
// until Remove: reading an event file again is one pread (kernfs regenerates it at offset 0).
type Leaf struct {
	s         *Subtree
	dir       string
	fd        *os.File // the directory
	events    *os.File // cgroup.events (populated)
	memEvents *os.File // memory.events (oom_kill)
	limits    Limits   // its own limits (zero: none)
}

// NewLeaf gives the next exec its cgroup: an idle leaf when limits is zero and one is
// kept, else a new leaf with limits.
func (s *Subtree) NewLeaf(limits Limits) (*Leaf, error) {
	if limits == (Limits{}) {
		s.mu.Lock()
		if n := len(s.idle); n > 0 {
			l := s.idle[n-1]
			s.idle = s.idle[:n-1]
			s.mu.Unlock()
			return l, nil
		}
		s.mu.Unlock()
	}
	dir := filepath.Join(s.execs, ExecLeafPrefix+strconv.FormatUint(s.seq.Add(1), 10))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cgroup %s: %w", dir, err)
	}
	l := &Leaf{s: s, dir: dir, limits: limits}
	if err := limits.write(dir); err != nil {
		l.Remove()
		return nil, err
	}
	fd, err := os.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		l.Remove()
		return nil, fmt.Errorf("cgroup %s: %w", dir, err)
	}
	l.fd = fd
	return l, nil
}

// readEvents reads the leaf's event file name from its start, opening it on first use into *f.
func (l *Leaf) readEvents(f **os.File, name string) ([]byte, error) {
	if *f == nil {
		var err error
		if *f, err = os.Open(filepath.Join(l.dir, name)); err != nil {
			return nil, err
		}
	}
	buf := make([]byte, 512)
	n, err := (*f).ReadAt(buf, 0)
	if n > 0 && (err == nil || errors.Is(err, io.EOF)) {
		return buf[:n], nil
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return nil, err
}

// Path is the leaf's directory.
func (l *Leaf) Path() string { return l.dir }

// FD is the leaf's directory fd for SysProcAttr.CgroupFD (valid until Release or Remove).
func (l *Leaf) FD() int { return int(l.fd.Fd()) }

// OOMKills is how many of the leaf's processes the OOM killer killed (memory.events oom_kill).
func (l *Leaf) OOMKills() (uint64, error) {
	b, err := l.readEvents(&l.memEvents, "memory.events")
	if err != nil {
		return 0, err
	}
	return parseOOMKills(b)
}

// Release is the end of the leaf's exec: it is kept for a later exec if it can be reused
// (see the package comment), and removed otherwise.
func (l *Leaf) Release() {
	if l.reusable() {
		s := l.s
		s.mu.Lock()
		if len(s.idle) < MaxIdleLeaves {
			s.idle = append(s.idle, l)
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
	}
	l.Remove()
}

// reusable: no limits of its own, no process left, no OOM kill seen.
func (l *Leaf) reusable() bool {
	if l.limits != (Limits{}) {
		return false
	}
	events, err := l.readEvents(&l.events, "cgroup.events")
	if err != nil || !strings.Contains("\n"+string(events), "\npopulated 0\n") {
		return false
	}
	n, err := l.OOMKills()
	return err == nil && n == 0
}

// Remove closes the fd and removes the leaf; one that still holds processes (EBUSY) is
// kept and retried by later Removes. Earlier leaves kept that way are retried now.
func (l *Leaf) Remove() {
	for _, f := range []**os.File{&l.fd, &l.events, &l.memEvents} {
		if *f != nil {
			(*f).Close()
			*f = nil
		}
	}
	s := l.s
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.stale[:0]
	for _, d := range s.stale {
		if !removed(d) {
			kept = append(kept, d)
		}
	}
	s.stale = kept
	if !removed(l.dir) {
		s.stale = append(s.stale, l.dir)
	}
}

// Idle is how many leaves are kept for later execs.
func (s *Subtree) Idle() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.idle)
}

// removed removes dir and reports whether it is gone (a missing dir is gone).
func removed(dir string) bool {
	err := unix.Rmdir(dir)
	return err == nil || errors.Is(err, unix.ENOENT)
}
