package agentsvc

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/containerd/ttrpc"
	"github.com/hashicorp/yamux"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"vessel.dev/agent/internal/agentpb"
	"vessel.dev/agent/internal/streams"
	"vessel.dev/agent/internal/sysinfo"
	"vessel.dev/agent/internal/version"
)

type fakeProcs struct {
	execs      chan *agentpb.ExecRequest
	signalAlls chan int32
	exited     map[string]chan struct{}
}

func (f *fakeProcs) Exited(id string) (<-chan struct{}, error) {
	if ch, ok := f.exited[id]; ok {
		return ch, nil
	}
	return nil, status.Errorf(codes.NotFound, "no process with exec id %q", id)
}

func (f *fakeProcs) Exec(ctx context.Context, req *agentpb.ExecRequest) (*agentpb.ExecResponse, error) {
	f.execs <- req
	if req.ExecId == "dup" {
		return nil, status.Error(codes.AlreadyExists, "exec id in use")
	}
	return &agentpb.ExecResponse{Pid: 42}, nil
}
func (f *fakeProcs) Wait(ctx context.Context, req *agentpb.WaitRequest) (*agentpb.WaitResponse, error) {
	return nil, status.Error(codes.NotFound, "no such exec")
}
func (f *fakeProcs) Signal(ctx context.Context, req *agentpb.SignalRequest) (*agentpb.SignalResponse, error) {
	return &agentpb.SignalResponse{}, nil
}
func (f *fakeProcs) SignalAll(ctx context.Context, req *agentpb.SignalAllRequest) (*agentpb.SignalAllResponse, error) {
	f.signalAlls <- req.Signal
	if req.Signal == 0 {
		return nil, status.Error(codes.InvalidArgument, "signal 0 out of range")
	}
	return &agentpb.SignalAllResponse{}, nil
}
func (f *fakeProcs) ResizePty(ctx context.Context, req *agentpb.ResizePtyRequest) (*agentpb.ResizePtyResponse, error) {
	return &agentpb.ResizePtyResponse{}, nil
}
func (f *fakeProcs) CloseStdin(ctx context.Context, req *agentpb.CloseStdinRequest) (*agentpb.CloseStdinResponse, error) {
	return &agentpb.CloseStdinResponse{}, nil
}

type fakeMounter struct{ got *agentpb.MountRequest }

func (f *fakeMounter) Mount(ctx context.Context, req *agentpb.MountRequest) error {
	f.got = req
	if req.GetTarget() == "bad" {
		return status.Error(codes.InvalidArgument, "bad target")
	}
	return nil
}

type fakeNet struct{}

func (fakeNet) ConfigureInterface(ctx context.Context, req *agentpb.ConfigureInterfaceRequest) (string, error) {
	if req.Mac == "" {
		return "", status.Error(codes.InvalidArgument, "no mac")
	}
	return "eth0", nil
}

func yamuxConfig() *yamux.Config {
	c := yamux.DefaultConfig()
	c.EnableKeepAlive = false
	c.LogOutput = io.Discard
	return c
}

// serve runs svc the way the agent does: ttrpc on the first stream of a yamux server
// session, and returns a client speaking to it from the host side.
func serve(t *testing.T, svc agentpb.AgentService) agentpb.AgentService {
	t.Helper()
	a, b := net.Pipe()
	guest, err := yamux.Server(a, yamuxConfig())
	if err != nil {
		t.Fatal(err)
	}
	host, err := yamux.Client(b, yamuxConfig())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(svc)
	if err != nil {
		t.Fatal(err)
	}
	l := NewConnListener()
	go srv.Serve(context.Background(), l)
	reg := streams.New(streams.Options{Logf: t.Logf})
	go reg.ServeSession(guest, l.Offer)
	ctl, err := host.OpenStream()
	if err != nil {
		t.Fatal(err)
	}
	client := ttrpc.NewClient(ctl)
	t.Cleanup(func() {
		client.Close()
		host.Close()
		guest.Close()
		srv.Close()
	})
	return agentpb.NewAgentClient(client)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestPingInfo(t *testing.T) {
	c := serve(t, New(Config{
		SysInfo: func() (sysinfo.Info, error) {
			return sysinfo.Info{KernelRelease: "6.1.0-test", Hostname: "vm1", CPUs: 2, MemTotal: 100, MemAvailable: 50, UptimeSeconds: 1.5,
				CPUTime: sysinfo.CPUTimes{UserNs: 7, SystemNs: 3, PerCPUNs: []uint64{6, 4}}}, nil
		},
		Timeline: func() []BootEvent { return []BootEvent{{"mounts", 10}, {"ready", 20}} },
	}))
	p, err := c.Ping(ctx(t), &agentpb.PingRequest{})
	if err != nil || p.AgentVersion != version.Version {
		t.Fatalf("%v %v", p, err)
	}
	info, err := c.Info(ctx(t), &agentpb.InfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if info.KernelRelease != "6.1.0-test" || info.Hostname != "vm1" || info.Cpus != 2 || info.MemoryTotalBytes != 100 ||
		info.MemoryAvailableBytes != 50 || info.UptimeSeconds != 1.5 || info.AgentVersion != version.Version ||
		len(info.BootTimeline) != 2 || info.BootTimeline[1].Name != "ready" || info.BootTimeline[1].AtNs != 20 ||
		info.CpuUserNs != 7 || info.CpuSystemNs != 3 || len(info.CpuBusyNs) != 2 || info.CpuBusyNs[0] != 6 {
		t.Fatalf("%+v", info)
	}
}

func TestInfoRealSystemAndError(t *testing.T) {
	c := serve(t, New(Config{}))
	info, err := c.Info(ctx(t), &agentpb.InfoRequest{})
	if err != nil || info.KernelRelease == "" || info.Cpus == 0 || info.MemoryTotalBytes == 0 || len(info.CpuBusyNs) == 0 {
		t.Fatalf("%+v %v", info, err)
	}
	c = serve(t, New(Config{SysInfo: func() (sysinfo.Info, error) { return sysinfo.Info{}, errors.New("boom") }}))
	if _, err := c.Info(ctx(t), &agentpb.InfoRequest{}); status.Code(err) != codes.Internal {
		t.Fatalf("%v", err)
	}
}

func TestDelegation(t *testing.T) {
	fp := &fakeProcs{execs: make(chan *agentpb.ExecRequest, 2), signalAlls: make(chan int32, 2)}
	fm := &fakeMounter{}
	c := serve(t, New(Config{Processes: fp, Mounter: fm, Net: fakeNet{}}))
	r, err := c.Exec(ctx(t), &agentpb.ExecRequest{ExecId: "e1", Args: []string{"true"}})
	if err != nil || r.Pid != 42 || (<-fp.execs).Args[0] != "true" {
		t.Fatalf("%v %v", r, err)
	}
	if _, err := c.Exec(ctx(t), &agentpb.ExecRequest{ExecId: "dup"}); status.Code(err) != codes.AlreadyExists {
		t.Fatalf("dup: %v", err)
	}
	if _, err := c.Wait(ctx(t), &agentpb.WaitRequest{ExecId: "x"}); status.Code(err) != codes.NotFound {
		t.Fatalf("wait: %v", err)
	}
	for _, call := range []func() error{
		func() error { _, err := c.Signal(ctx(t), &agentpb.SignalRequest{}); return err },
		func() error { _, err := c.ResizePty(ctx(t), &agentpb.ResizePtyRequest{}); return err },
		func() error { _, err := c.CloseStdin(ctx(t), &agentpb.CloseStdinRequest{}); return err },
	} {
		if err := call(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.SignalAll(ctx(t), &agentpb.SignalAllRequest{Signal: 15}); err != nil || <-fp.signalAlls != 15 {
		t.Fatalf("signal all: %v", err)
	}
	if _, err := c.SignalAll(ctx(t), &agentpb.SignalAllRequest{}); status.Code(err) != codes.InvalidArgument || <-fp.signalAlls != 0 {
		t.Fatalf("signal all 0: %v", err)
	}
	if _, err := c.Mount(ctx(t), &agentpb.MountRequest{Target: "/mnt", Source: &agentpb.MountRequest_VirtiofsTag{VirtiofsTag: "t"}}); err != nil || fm.got.GetVirtiofsTag() != "t" {
		t.Fatalf("mount: %v", err)
	}
	if _, err := c.Mount(ctx(t), &agentpb.MountRequest{Target: "bad"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("mount bad: %v", err)
	}
	n, err := c.ConfigureInterface(ctx(t), &agentpb.ConfigureInterfaceRequest{Mac: "52:54:00:00:00:01"})
	if err != nil || n.Name != "eth0" {
		t.Fatalf("%v %v", n, err)
	}
	if _, err := c.ConfigureInterface(ctx(t), &agentpb.ConfigureInterfaceRequest{}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("net bad: %v", err)
	}
}

type fakeFencer struct{}

func (fakeFencer) FenceShare(tag string) ([]string, error) {
	if tag == "gone" {
		return nil, nil
	}
	return []string{"/mnt/" + tag}, nil
}
func (fakeFencer) FenceInterface(mac string) (string, error) {
	if mac != "52:54:00:00:00:01" {
		return "", status.Error(codes.NotFound, "no such interface")
	}
	return "eth0", nil
}

func TestFenceDevice(t *testing.T) {
	c := serve(t, New(Config{Fencer: fakeFencer{}}))
	r, err := c.FenceDevice(ctx(t), &agentpb.FenceDeviceRequest{Device: &agentpb.FenceDeviceRequest_VirtiofsTag{VirtiofsTag: "data"}})
	if err != nil || len(r.Fenced) != 1 || r.Fenced[0] != "/mnt/data" {
		t.Fatalf("share: %v %v", r, err)
	}
	r, err = c.FenceDevice(ctx(t), &agentpb.FenceDeviceRequest{Device: &agentpb.FenceDeviceRequest_VirtiofsTag{VirtiofsTag: "gone"}})
	if err != nil || len(r.Fenced) != 0 {
		t.Fatalf("share with no mount: %v %v", r, err)
	}
	r, err = c.FenceDevice(ctx(t), &agentpb.FenceDeviceRequest{Device: &agentpb.FenceDeviceRequest_Mac{Mac: "52:54:00:00:00:01"}})
	if err != nil || len(r.Fenced) != 1 || r.Fenced[0] != "eth0" {
		t.Fatalf("nic: %v %v", r, err)
	}
	if _, err := c.FenceDevice(ctx(t), &agentpb.FenceDeviceRequest{Device: &agentpb.FenceDeviceRequest_Mac{Mac: "52:54:00:00:00:02"}}); status.Code(err) != codes.NotFound {
		t.Fatalf("unknown nic: %v", err)
	}
	if _, err := c.FenceDevice(ctx(t), &agentpb.FenceDeviceRequest{}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("no device: %v", err)
	}
}

func TestUnimplementedWithoutDeps(t *testing.T) {
	c := serve(t, New(Config{}))
	if _, err := c.Exec(ctx(t), &agentpb.ExecRequest{}); status.Code(err) != codes.Unimplemented {
		t.Fatalf("exec: %v", err)
	}
	if _, err := c.SignalAll(ctx(t), &agentpb.SignalAllRequest{Signal: 9}); status.Code(err) != codes.Unimplemented {
		t.Fatalf("signal all: %v", err)
	}
	if _, err := c.Mount(ctx(t), &agentpb.MountRequest{}); status.Code(err) != codes.Unimplemented {
		t.Fatalf("mount: %v", err)
	}
	if _, err := c.Shutdown(ctx(t), &agentpb.ShutdownRequest{}); status.Code(err) != codes.Unimplemented {
		t.Fatalf("shutdown: %v", err)
	}
	if _, err := c.FenceDevice(ctx(t), &agentpb.FenceDeviceRequest{}); status.Code(err) != codes.Unimplemented {
		t.Fatalf("fence: %v", err)
	}
}

func TestShutdownRepliesThenPowersOffOnce(t *testing.T) {
	release := make(chan struct{})
	calls := make(chan struct{}, 4)
	c := serve(t, New(Config{PowerOff: func() {
		calls <- struct{}{}
		<-release // power-off blocks (as a real one never returns): the reply must not wait for it
	}}))
	if _, err := c.Shutdown(ctx(t), &agentpb.ShutdownRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Shutdown(ctx(t), &agentpb.ShutdownRequest{}); err != nil {
		t.Fatal(err)
	}
	<-calls
	close(release)
	select {
	case <-calls:
		t.Fatal("PowerOff called twice")
	default:
	}
}

func TestConnListenerClose(t *testing.T) {
	l := NewConnListener()
	l.Close()
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatal(err)
	}
	a, b := net.Pipe()
	l.Offer(a) // closed listener closes the conn
	if _, err := b.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("offered conn not closed: %v", err)
	}
}

func TestWaitFile(t *testing.T) {
	dir := t.TempDir()
	gone := make(chan struct{})
	close(gone)
	fp := &fakeProcs{exited: map[string]chan struct{}{"done": gone, "running": make(chan struct{})}}
	c := serve(t, New(Config{Processes: fp}))
	pid := filepath.Join(dir, "init.pid")

	// runc's way: a temporary file renamed into place, after the wait began
	got := make(chan error, 1)
	var resp *agentpb.WaitFileResponse
	go func() {
		var err error
		resp, err = c.WaitFile(ctx(t), &agentpb.WaitFileRequest{Path: pid, WhileExecId: "running", TimeoutMs: 10000})
		got <- err
	}()
	tmp := filepath.Join(dir, ".init.pid")
	if err := os.WriteFile(tmp, []byte("1234"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, pid); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil || string(resp.Content) != "1234" {
		t.Fatalf("renamed into place: %v %v", resp, err)
	}
	// already there: at once, bounded by max_bytes
	r, err := c.WaitFile(ctx(t), &agentpb.WaitFileRequest{Path: pid, MaxBytes: 2})
	if err != nil || string(r.Content) != "12" {
		t.Fatalf("existing: %v %v", r, err)
	}

	for name, tc := range map[string]struct {
		req  *agentpb.WaitFileRequest
		code codes.Code
	}{
		"the exec exited first": {&agentpb.WaitFileRequest{Path: filepath.Join(dir, "never"), WhileExecId: "done"}, codes.FailedPrecondition},
		"no such exec":          {&agentpb.WaitFileRequest{Path: filepath.Join(dir, "never"), WhileExecId: "nope"}, codes.NotFound},
		"timeout":               {&agentpb.WaitFileRequest{Path: filepath.Join(dir, "never"), TimeoutMs: 50}, codes.DeadlineExceeded},
		"no such directory":     {&agentpb.WaitFileRequest{Path: filepath.Join(dir, "no", "file")}, codes.NotFound},
		"relative path":         {&agentpb.WaitFileRequest{Path: "init.pid"}, codes.InvalidArgument},
	} {
		if _, err := c.WaitFile(ctx(t), tc.req); status.Code(err) != tc.code {
			t.Errorf("%s: got %v, want %v", name, err, tc.code)
		}
	}
}
