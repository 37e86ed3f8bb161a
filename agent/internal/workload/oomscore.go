package workload

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
)

// The oom_score_adj values: the agent's, and what its children start with.
const (
	AgentOOMScoreAdj = -1000
	ChildOOMScoreAdj = 0
)

// OOMScore is the agent's own oom_score_adj, kept open.
type OOMScore struct {
	mu   sync.Mutex
	w    io.WriterAt
	logf func(format string, args ...any)
	// startAtChildPriority runs start on a thread at the children's priority (withChildPriority).
	startAtChildPriority func(start func() error) error
}

// ProtectAgent opens path (/proc/self/oom_score_adj) and sets AgentOOMScoreAdj: the OOM
// killer never picks the agent (as PID 1 the kernel spares it anyway; this says so
// wherever oom_score_adj is read). logf reports a failure to restore it after a Spawn
// (nil: discarded).
func ProtectAgent(path string, logf func(format string, args ...any)) (*OOMScore, error) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	o, err := newOOMScore(f, logf)
	if err != nil {
		f.Close()
	}
	return o, err
}

func newOOMScore(w io.WriterAt, logf func(format string, args ...any)) (*OOMScore, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	o := &OOMScore{w: w, logf: logf, startAtChildPriority: withChildPriority}
	if err := o.set(AgentOOMScoreAdj); err != nil {
		return nil, err
	}
	return o, nil
}

// set writes v: one pwrite, which procfs takes whole (each write is parsed on its own).
func (o *OOMScore) set(v int) error {
	if _, err := o.w.WriteAt([]byte(strconv.Itoa(v)), 0); err != nil {
		return fmt.Errorf("oom_score_adj %d: %w", v, err)
	}
	return nil
}

// Spawn runs start (which forks the child) with the agent's score at ChildOOMScoreAdj and
// on a thread at the children's scheduling priority, which the child inherits, and
// restores AgentOOMScoreAdj and the thread's priority after it; Spawns are serialized. Every child the agent starts
// must be started through Spawn. It returns start's error, or the error of lowering the
// score or the nice (then start is not run).
func (o *OOMScore) Spawn(start func() error) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.set(ChildOOMScoreAdj); err != nil {
		return err
	}
	err := o.startAtChildPriority(start)
	if rerr := o.set(AgentOOMScoreAdj); rerr != nil {
		o.logf("agent: %v", rerr)
	}
	return err
}
