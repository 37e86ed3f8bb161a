package agentsvc

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"time"

	"vessel.dev/agent/internal/initsys"
	"vessel.dev/agent/internal/mounts"
	"vessel.dev/agent/internal/netcfg"
	"vessel.dev/agent/internal/process"
	"vessel.dev/agent/internal/reaper"
	"vessel.dev/agent/internal/restore"
	"vessel.dev/agent/internal/streams"
	"vessel.dev/agent/internal/transport"
	"vessel.dev/agent/internal/version"
	"vessel.dev/agent/internal/workload"
)

// portWait bounds how long PID 1 waits for the virtio-serial port to appear.
const portWait = 10 * time.Second

// replyGrace bounds how long power-off waits for the Shutdown reply to be written.
const replyGrace = time.Second

// VersionString is what --version prints.
func VersionString() string { return "vessel-agent " + version.Version }

// Deps builds the service's dependencies shared by both modes.
type Deps struct {
	Registry *streams.Registry
	Reaper   *reaper.Reaper
	Procs    *process.Manager
}

func newDeps(ctx context.Context, logger *log.Logger, debug bool) Deps {
	logf := func(string, ...any) {}
	if debug {
		logf = logger.Printf
	}
	reg := streams.New(streams.Options{Logf: logf})
	rp := reaper.New()
	go rp.Run(ctx)
	return Deps{Registry: reg, Reaper: rp, Procs: process.NewManager(reg, rp, logger)}
}

// RunPID1 is the agent as the guest's init. It never returns: on a fatal error it
// logs and powers the VM off.
func RunPID1() {
	ctx := context.Background()
	sys, err := initsys.Boot()
	logger := sys.Log
	fatal := func(err error) {
		logger.Printf("fatal: %v", err)
		if perr := initsys.PowerOff(logger.Printf); perr != nil {
			logger.Printf("power off: %v", perr)
		}
		os.Exit(1) // PID 1 exiting panics the kernel; with panic=-1 the VM ends
	}
	if err != nil {
		fatal(err)
	}
	tl := sys.Timeline
	if err := netcfg.LoopbackUp(); err != nil {
		logger.Printf("boot: lo: %v", err)
	}
	tl.Mark("network")

	deps := newDeps(ctx, logger, sys.Config.Debug)
	confine(deps.Procs, logger)
	var tr transport.Transport
	switch sys.Config.Transport {
	case initsys.TransportVsock:
		tr, err = transport.ListenVsock(sys.Config.VsockPort)
	default:
		tr, err = transport.OpenVirtioSerial(ctx, transport.PortName, portWait)
	}
	if err != nil {
		fatal(fmt.Errorf("transport: %w", err))
	}
	tl.Mark("transport-open")

	runner := &Runner{Transport: tr, Registry: deps.Registry, Logf: logger.Printf}
	yout := io.Discard
	if sys.Config.Debug {
		yout = sys.Console
	}
	runner.Yamux = DefaultYamuxConfig(yout)
	netConf := &netcfg.Configurer{Links: netcfg.NetlinkLinks{}}
	svc := New(Config{
		Processes: deps.Procs,
		Mounter:   gatedMounter{ready: sys.ModulesLoaded, inner: &mounts.Mounter{Sys: mounts.OS{}, RefreshLinks: initsys.RefreshDiskLinks}},
		Net:       gatedNet{ready: sys.ModulesLoaded, inner: netConf},
		Fencer:    fencer{shares: &mounts.ShareFencer{Sys: mounts.OSFence{}}, nics: netConf},
		Timeline:  timeline(tl),
		Detach:    runner.Detach,
		Restore:   restore.OS{},
		PowerOff: func() {
			// Let the reply leave first (bounded: the host may have gone already).
			select {
			case <-runner.NextWrite():
			case <-time.After(replyGrace):
			}
			logger.Printf("powering off")
			if err := initsys.PowerOff(logger.Printf); err != nil {
				fatal(fmt.Errorf("power off: %w", err))
			}
		},
		Logf: logger.Printf,
	})
	srv, err := NewServer(svc)
	if err != nil {
		fatal(err)
	}
	runner.Server = srv
	runner.OnServing = func() {
		tl.Mark("ready")
		logger.Printf("ready")
		// Only now the drivers the host connection does not need: on one vCPU they
		// would otherwise delay "ready". Mount and ConfigureInterface wait for them.
		sys.LoadRemainingModules()
	}
	fatal(fmt.Errorf("serve: %w", runner.Run(ctx)))
}

// confine protects the agent from the OOM killer, gives its threads priority over the
// workloads' (workload.AgentPolicy, AgentNice) and has every exec start in the workload
// cgroup subtree with the default limits (agent/internal/workload). A guest where this fails
// still serves, without the limits (logged).
func confine(procs *process.Manager, logger *log.Logger) {
	oom, err := workload.ProtectAgent("/proc/self/oom_score_adj", logger.Printf)
	if err != nil {
		logger.Printf("boot: oom_score_adj: %v", err)
	}
	if err := workload.PrioritizeThreads("/proc/self/task"); err != nil {
		logger.Printf("boot: agent priority: %v", err)
	}
	limits, err := workload.ReadDefaults("/proc")
	if err != nil {
		logger.Printf("boot: workload limits: %v (none set)", err)
	}
	tree, err := workload.Setup(initsys.CgroupRoot, limits)
	if err != nil {
		logger.Printf("boot: workload cgroup: %v (execs run unconfined)", err)
		tree = nil
	}
	var spawn func(func() error) error
	if oom != nil {
		spawn = oom.Spawn
	}
	procs.Confine(tree, spawn)
}

// fencer is the guest's DeviceFencer: shares by mount, NICs by link.
type fencer struct {
	shares *mounts.ShareFencer
	nics   *netcfg.Configurer
}

func (f fencer) FenceShare(tag string) ([]string, error)   { return f.shares.FenceShare(tag) }
func (f fencer) FenceInterface(mac string) (string, error) { return f.nics.FenceInterface(mac) }

func timeline(tl *initsys.Timeline) func() []BootEvent {
	return func() []BootEvent {
		var out []BootEvent
		for _, e := range tl.Events() {
			out = append(out, BootEvent{Name: e.Name, AtNs: e.AtNs})
		}
		return out
	}
}

// RunListen serves on a unix socket at path without init duties (host mode, for
// tests): no Mount, ConfigureInterface or Shutdown (UNIMPLEMENTED); Exec runs host
// processes as the current user. It returns when the listener fails.
func RunListen(path string, debug bool) error {
	_ = os.Remove(path)
	l, err := net.Listen("unix", path)
	if err != nil {
		return err
	}
	defer l.Close()
	return ServeListener(context.Background(), l, log.New(os.Stderr, initsys.LogPrefix, 0), debug, nil)
}

// ServeListener serves every connection accepted on l as a host session; onServing
// is called once the control plane is served.
func ServeListener(ctx context.Context, l net.Listener, logger *log.Logger, debug bool, onServing func()) error {
	deps := newDeps(ctx, logger, debug)
	tl := initsys.NewTimeline()
	srv, err := NewServer(New(Config{Processes: deps.Procs, Timeline: timeline(tl), Logf: logger.Printf}))
	if err != nil {
		return err
	}
	defer srv.Close()
	logf := func(string, ...any) {}
	if debug {
		logf = logger.Printf
	}
	r := &Runner{
		Transport: transport.Listener{L: l}, Registry: deps.Registry, Server: srv, Concurrent: true, Logf: logf,
		OnServing: func() {
			tl.Mark("ready")
			logger.Printf("ready")
			if onServing != nil {
				onServing()
			}
		},
	}
	return r.Run(ctx)
}
