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
