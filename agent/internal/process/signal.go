package process

import (
	"context"
	"errors"
	"os"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"vessel.dev/agent/internal/agentpb"
)

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
	if sig == unix.SIGKILL {
		p.hostKilled.Store(true) // before the kill: its SIGKILL is never taken for the OOM killer's
	}
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

// SignalAll sends a signal to every process in the guest but the agent; see the package
// comment.
func (m *Manager) SignalAll(ctx context.Context, req *agentpb.SignalAllRequest) (*agentpb.SignalAllResponse, error) {
	if unix.Signal(req.GetSignal()) == unix.SIGKILL && os.Getpid() == 1 {
		m.mu.Lock()
		for _, p := range m.procs {
			p.hostKilled.Store(true)
		}
		m.mu.Unlock()
	}
	if err := signalAll(req.GetSignal(), os.Getpid(), unix.Kill); err != nil {
		return nil, err
	}
	m.log.Printf("signal %d sent to every process", req.GetSignal())
	return &agentpb.SignalAllResponse{}, nil
}

// signalAll is SignalAll for an agent whose pid is self, signalling through kill. The
// PID-1 check comes first: from any other process kill(-1) reaches everything its user
// may signal (on a host, the user's whole session), so nothing is sent, whatever sig is.
func signalAll(sig int32, self int, kill func(pid int, sig unix.Signal) error) error {
	if self != 1 {
		return status.Errorf(codes.Unimplemented, "SignalAll needs the agent to be the guest's init (PID 1; this agent is pid %d)", self)
	}
	if sig < 1 || sig > 64 {
		return status.Errorf(codes.InvalidArgument, "signal %d out of range 1..64", sig)
	}
	// From PID 1, kill(-1) signals every process but the caller; ESRCH: none was left.
	if err := kill(-1, unix.Signal(sig)); err != nil && err != unix.ESRCH {
		return status.Errorf(codes.Internal, "kill(-1, %d): %v", sig, err)
	}
	return nil
}
