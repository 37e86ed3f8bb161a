// Package agentsvc implements the agent's control plane, agentpb.AgentService
// (vessel.agent.v1.Agent over ttrpc): Ping, Info, Mount, ConfigureInterface, WaitFile,
// FenceDevice, Detach, AfterRestore and Shutdown here; Exec, Wait, Signal, SignalAll, ResizePty and CloseStdin are delegated
// to a Processes implementation (*process.Manager). Every dependency is injected through
// Config; a nil one makes its RPCs fail with UNIMPLEMENTED (or, for Info's optional
// parts, leaves fields empty). Errors are ttrpc status errors.
//
// Shutdown replies first and then calls Config.PowerOff once, asynchronously.
package agentsvc

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/containerd/ttrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"vessel.dev/agent/internal/agentpb"
	"vessel.dev/agent/internal/initsys"
	"vessel.dev/agent/internal/restore"
	"vessel.dev/agent/internal/sysinfo"
	"vessel.dev/agent/internal/version"
	"vessel.dev/agent/internal/waitfile"
)

// WaitFile's bounds (agent.proto).
const (
	DefaultWaitFileTimeout = 10 * time.Second
	MaxWaitFileTimeout     = 60 * time.Second
	MaxWaitFileBytes       = 64 << 10
)

// Processes runs guest processes; implemented by agent/internal/process (*process.Manager).
type Processes interface {
	Exec(ctx context.Context, req *agentpb.ExecRequest) (*agentpb.ExecResponse, error)
	Wait(ctx context.Context, req *agentpb.WaitRequest) (*agentpb.WaitResponse, error)
	Signal(ctx context.Context, req *agentpb.SignalRequest) (*agentpb.SignalResponse, error)
	SignalAll(ctx context.Context, req *agentpb.SignalAllRequest) (*agentpb.SignalAllResponse, error)
	ResizePty(ctx context.Context, req *agentpb.ResizePtyRequest) (*agentpb.ResizePtyResponse, error)
	CloseStdin(ctx context.Context, req *agentpb.CloseStdinRequest) (*agentpb.CloseStdinResponse, error)
	// Exited is closed once the process exec id has exited (a status error when none exists).
	Exited(execID string) (<-chan struct{}, error)
}

// Mounter performs Mount requests (*mounts.Mounter).
type Mounter interface {
	Mount(ctx context.Context, req *agentpb.MountRequest) error
}

// NetConfigurer performs ConfigureInterface requests (*netcfg.Configurer).
type NetConfigurer interface {
	ConfigureInterface(ctx context.Context, req *agentpb.ConfigureInterfaceRequest) (string, error)
}

// DeviceFencer fences a device whose host backend died (FenceDevice): a share's mounts
// (*mounts.ShareFencer) or a NIC (*netcfg.Configurer).
type DeviceFencer interface {
	FenceShare(tag string) ([]string, error)
	FenceInterface(mac string) (string, error)
}

// BootEvent is one step of the boot timeline.
type BootEvent struct {
	Name string
	AtNs int64
}

// Config wires the service.
type Config struct {
	Processes Processes
	Mounter   Mounter
	Net       NetConfigurer
	Fencer    DeviceFencer
	// SysInfo reads the guest's state (default sysinfo.Read).
	SysInfo func() (sysinfo.Info, error)
	// Timeline returns the boot timeline (nil: none, e.g. not PID 1).
	Timeline func() []BootEvent
	// PowerOff is called once, in its own goroutine, after Shutdown replied
	// (nil: Shutdown is UNIMPLEMENTED, e.g. when not PID 1).
	PowerOff func()
	// Detach hands the current host session over (Runner.Detach; nil: UNIMPLEMENTED).
	Detach func(token []byte) error
	// Restore is what AfterRestore changes in the guest (nil: UNIMPLEMENTED, e.g. not PID 1).
	Restore restore.Sys
	// Logf logs (nil: discard).
	Logf func(format string, args ...any)
}

// Service implements agentpb.AgentService.
type Service struct {
	cfg          Config
	shutdownOnce sync.Once
}

var _ agentpb.AgentService = (*Service)(nil)

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.SysInfo == nil {
		cfg.SysInfo = sysinfo.Read
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	return &Service{cfg: cfg}
}

// NewServer returns a ttrpc server with svc registered.
func NewServer(svc agentpb.AgentService) (*ttrpc.Server, error) {
	srv, err := ttrpc.NewServer()
	if err != nil {
		return nil, err
	}
	agentpb.RegisterAgentService(srv, svc)
	return srv, nil
}

func unimplemented(what string) error {
	return status.Errorf(codes.Unimplemented, "%s is not available in this agent", what)
}

func (s *Service) Ping(ctx context.Context, _ *agentpb.PingRequest) (*agentpb.PingResponse, error) {
	return &agentpb.PingResponse{AgentVersion: version.Version}, nil
}

func (s *Service) Info(ctx context.Context, _ *agentpb.InfoRequest) (*agentpb.InfoResponse, error) {
	info, err := s.cfg.SysInfo()
	if err != nil {
		return nil, status.Errorf(codes.Internal, "info: %v", err)
	}
	resp := &agentpb.InfoResponse{
		KernelRelease:        info.KernelRelease,
		KernelVersion:        info.KernelVersion,
		Hostname:             info.Hostname,
		UptimeSeconds:        info.UptimeSeconds,
		Cpus:                 info.CPUs,
		MemoryTotalBytes:     info.MemTotal,
		MemoryAvailableBytes: info.MemAvailable,
		AgentVersion:         version.Version,
		CpuUserNs:            info.CPUTime.UserNs,
		CpuSystemNs:          info.CPUTime.SystemNs,
		CpuBusyNs:            info.CPUTime.PerCPUNs,
	}
	if resp.Hostname == "" {
		resp.Hostname, _ = os.Hostname()
	}
	if s.cfg.Timeline != nil {
		for _, e := range s.cfg.Timeline() {
			resp.BootTimeline = append(resp.BootTimeline, &agentpb.BootEvent{Name: e.Name, AtNs: e.AtNs})
		}
	}
	return resp, nil
}

func (s *Service) Exec(ctx context.Context, req *agentpb.ExecRequest) (*agentpb.ExecResponse, error) {
	if s.cfg.Processes == nil {
		return nil, unimplemented("Exec")
	}
	return s.cfg.Processes.Exec(ctx, req)
}

func (s *Service) Wait(ctx context.Context, req *agentpb.WaitRequest) (*agentpb.WaitResponse, error) {
	if s.cfg.Processes == nil {
		return nil, unimplemented("Wait")
	}
	return s.cfg.Processes.Wait(ctx, req)
}

func (s *Service) Signal(ctx context.Context, req *agentpb.SignalRequest) (*agentpb.SignalResponse, error) {
	if s.cfg.Processes == nil {
		return nil, unimplemented("Signal")
	}
	return s.cfg.Processes.Signal(ctx, req)
}

func (s *Service) SignalAll(ctx context.Context, req *agentpb.SignalAllRequest) (*agentpb.SignalAllResponse, error) {
	if s.cfg.Processes == nil {
		return nil, unimplemented("SignalAll")
	}
	return s.cfg.Processes.SignalAll(ctx, req)
}

func (s *Service) ResizePty(ctx context.Context, req *agentpb.ResizePtyRequest) (*agentpb.ResizePtyResponse, error) {
	if s.cfg.Processes == nil {
		return nil, unimplemented("ResizePty")
	}
	return s.cfg.Processes.ResizePty(ctx, req)
}

func (s *Service) CloseStdin(ctx context.Context, req *agentpb.CloseStdinRequest) (*agentpb.CloseStdinResponse, error) {
	if s.cfg.Processes == nil {
		return nil, unimplemented("CloseStdin")
	}
	return s.cfg.Processes.CloseStdin(ctx, req)
}

func (s *Service) Mount(ctx context.Context, req *agentpb.MountRequest) (*agentpb.MountResponse, error) {
	if s.cfg.Mounter == nil {
		return nil, unimplemented("Mount")
	}
	if err := s.cfg.Mounter.Mount(ctx, req); err != nil {
		s.cfg.Logf("mount %s: %v", req.GetTarget(), err)
		return nil, err
	}
	return &agentpb.MountResponse{}, nil
}

func (s *Service) ConfigureInterface(ctx context.Context, req *agentpb.ConfigureInterfaceRequest) (*agentpb.ConfigureInterfaceResponse, error) {
	if s.cfg.Net == nil {
		return nil, unimplemented("ConfigureInterface")
	}
	name, err := s.cfg.Net.ConfigureInterface(ctx, req)
	if err != nil {
		s.cfg.Logf("configure interface %s: %v", req.GetMac(), err)
		return nil, err
	}
	return &agentpb.ConfigureInterfaceResponse{Name: name}, nil
}

// FenceDevice fences a share or a NIC whose host backend died (agent.proto).
func (s *Service) FenceDevice(ctx context.Context, req *agentpb.FenceDeviceRequest) (*agentpb.FenceDeviceResponse, error) {
	if s.cfg.Fencer == nil {
		return nil, unimplemented("FenceDevice")
	}
	var fenced []string
	var err error
	switch d := req.GetDevice().(type) {
	case *agentpb.FenceDeviceRequest_VirtiofsTag:
		fenced, err = s.cfg.Fencer.FenceShare(d.VirtiofsTag)
	case *agentpb.FenceDeviceRequest_Mac:
		var name string
		if name, err = s.cfg.Fencer.FenceInterface(d.Mac); err == nil {
			fenced = []string{name}
		}
	default:
		return nil, status.Error(codes.InvalidArgument, "fence: no device: set virtiofs_tag or mac")
	}
	if err != nil {
		s.cfg.Logf("fence device: %v", err)
		return nil, err
	}
	s.cfg.Logf("fenced %v: its host backend is gone", fenced)
	return &agentpb.FenceDeviceResponse{Fenced: fenced}, nil
}

// WaitFile waits for a file to appear (waitfile.Wait), bounded in time and bytes, and
// ends early when the process named by while_exec_id exits first.
func (s *Service) WaitFile(ctx context.Context, req *agentpb.WaitFileRequest) (*agentpb.WaitFileResponse, error) {
	path := req.GetPath()
	if !filepath.IsAbs(path) || filepath.Clean(path) == "/" {
		return nil, status.Errorf(codes.InvalidArgument, "WaitFile needs an absolute file path, got %q", path)
	}
	timeout := DefaultWaitFileTimeout
	if ms := req.GetTimeoutMs(); ms > 0 {
		timeout = min(time.Duration(ms)*time.Millisecond, MaxWaitFileTimeout)
	}
	maxBytes := MaxWaitFileBytes
	if n := int(req.GetMaxBytes()); n > 0 && n < maxBytes {
		maxBytes = n
	}
	var stop <-chan struct{}
	if id := req.GetWhileExecId(); id != "" {
		if s.cfg.Processes == nil {
			return nil, unimplemented("WaitFile while an exec runs")
		}
		ch, err := s.cfg.Processes.Exited(id)
		if err != nil {
			return nil, err
		}
		stop = ch
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	b, err := waitfile.Wait(ctx, path, stop, maxBytes)
	switch {
	case err == nil:
		return &agentpb.WaitFileResponse{Content: b}, nil
	case errors.Is(err, waitfile.ErrStopped):
		return nil, status.Errorf(codes.FailedPrecondition, "exec %q exited before %s appeared", req.GetWhileExecId(), path)
	case errors.Is(err, context.DeadlineExceeded):
		return nil, status.Errorf(codes.DeadlineExceeded, "%s did not appear within %v", path, timeout)
	case errors.Is(err, context.Canceled):
		return nil, status.FromContextError(err).Err()
	case errors.Is(err, os.ErrNotExist):
		return nil, status.Errorf(codes.NotFound, "wait for %s: %v", path, err)
	default:
		return nil, status.Errorf(codes.Internal, "wait for %s: %v", path, err)
	}
}

// Detach hands the host's transport over for a snapshot (agent.proto).
func (s *Service) Detach(ctx context.Context, req *agentpb.DetachRequest) (*agentpb.DetachResponse, error) {
	if s.cfg.Detach == nil {
		return nil, unimplemented("Detach")
	}
	if err := s.cfg.Detach(req.GetToken()); errors.Is(err, ErrBadToken) {
		return nil, status.Errorf(codes.InvalidArgument, "detach: %v", err)
	} else if err != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "detach: %v", err)
	}
	s.cfg.Logf("detaching the host session (snapshot)")
	return &agentpb.DetachResponse{}, nil
}

// AfterRestore makes a guest restored from a snapshot a machine of its own (agent.proto).
func (s *Service) AfterRestore(ctx context.Context, req *agentpb.AfterRestoreRequest) (*agentpb.AfterRestoreResponse, error) {
	if s.cfg.Restore == nil {
		return nil, unimplemented("AfterRestore")
	}
	step, err := restore.Apply(s.cfg.Restore, restore.Request{Entropy: req.GetEntropy(), UnixNano: req.GetUnixNano(), Hostname: req.GetHostname()}, initsys.ValidHostname)
	if errors.Is(err, restore.ErrInvalid) {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if err != nil {
		s.cfg.Logf("after restore: %v", err)
		return nil, status.Errorf(codes.Internal, "after restore: %v", err)
	}
	s.cfg.Logf("restored from a snapshot: reseeded, clock stepped by %v", step)
	return &agentpb.AfterRestoreResponse{ClockStepNs: int64(step)}, nil
}

// Shutdown replies, then powers off in the background (once, however often it is called).
func (s *Service) Shutdown(ctx context.Context, _ *agentpb.ShutdownRequest) (*agentpb.ShutdownResponse, error) {
	if s.cfg.PowerOff == nil {
		return nil, unimplemented("Shutdown")
	}
	s.shutdownOnce.Do(func() {
		s.cfg.Logf("shutdown requested")
		go s.cfg.PowerOff()
	})
	return &agentpb.ShutdownResponse{}, nil
}

// ConnListener is a net.Listener fed by Offer: it lets one ttrpc server serve the
// control stream of every yamux session.
type ConnListener struct {
	ch     chan net.Conn
	done   chan struct{}
	closed sync.Once
}

// NewConnListener returns an open ConnListener.
func NewConnListener() *ConnListener {
	return &ConnListener{ch: make(chan net.Conn), done: make(chan struct{})}
}

// Offer hands c to the server; it closes c if the listener is closed.
func (l *ConnListener) Offer(c net.Conn) {
	select {
	case l.ch <- c:
	case <-l.done:
		c.Close()
	}
}

func (l *ConnListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *ConnListener) Close() error {
	l.closed.Do(func() { close(l.done) })
	return nil
}

func (l *ConnListener) Addr() net.Addr { return connAddr{} }

type connAddr struct{}

func (connAddr) Network() string { return "yamux" }
func (connAddr) String() string  { return "control-stream" }
