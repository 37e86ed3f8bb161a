package initsys

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// GuestPath is PATH for the agent and (by default) the processes it starts.
const GuestPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// MountPoint is one early filesystem.
type MountPoint struct {
	Source, Target, FSType string
	Flags                  uintptr
	Data                   string
}

// EarlyMounts are mounted by Boot, in order.
var EarlyMounts = []MountPoint{
	{"proc", "/proc", "proc", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
	{"sysfs", "/sys", "sysfs", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
	{"devtmpfs", "/dev", "devtmpfs", unix.MS_NOSUID, "mode=0755"},
	{"devpts", "/dev/pts", "devpts", unix.MS_NOSUID | unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5"},
	{"shm", "/dev/shm", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=1777"},
	{"tmpfs", "/tmp", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=1777"},
	{"tmpfs", "/run", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=0755"},
	// cgroup v2: the agent's workload subtree (agent/internal/workload) and container
	// runtimes (runc enables the controllers it needs on the way down to a container's cgroup).
	{"cgroup2", CgroupRoot, "cgroup2", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, "nsdelegate"},
}

// CgroupRoot is where cgroup v2 is mounted.
const CgroupRoot = "/sys/fs/cgroup"

// Sys is the system-call surface of the early mounts.
type Sys interface {
	MkdirAll(path string, perm os.FileMode) error
	Mount(source, target, fstype string, flags uintptr, data string) error
	Lstat(path string) (os.FileInfo, error)
	Symlink(oldname, newname string) error
}

// OSSys is the real Sys.
type OSSys struct{}

func (OSSys) MkdirAll(p string, perm os.FileMode) error { return os.MkdirAll(p, perm) }
func (OSSys) Mount(source, target, fstype string, flags uintptr, data string) error {
	return unix.Mount(source, target, fstype, flags, data)
}
func (OSSys) Lstat(p string) (os.FileInfo, error) { return os.Lstat(p) }
func (OSSys) Symlink(o, n string) error           { return os.Symlink(o, n) }

// DevLinks are created in /dev when missing (devtmpfs does not make them).
var DevLinks = [][2]string{
	{"pts/ptmx", "/dev/ptmx"},
	{"/proc/self/fd", "/dev/fd"},
	{"/proc/self/fd/0", "/dev/stdin"},
	{"/proc/self/fd/1", "/dev/stdout"},
	{"/proc/self/fd/2", "/dev/stderr"},
}

// MountEarly mounts EarlyMounts in order (EBUSY: already mounted, fine) and creates
// missing DevLinks. It stops at the first failed mount: nothing works without them.
func MountEarly(sys Sys) error {
	for _, m := range EarlyMounts {
		if err := sys.MkdirAll(m.Target, 0o755); err != nil {
			return fmt.Errorf("mkdir %s: %w", m.Target, err)
		}
		if err := sys.Mount(m.Source, m.Target, m.FSType, m.Flags, m.Data); err != nil && !errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("mount %s on %s: %w", m.FSType, m.Target, err)
		}
	}
	for _, l := range DevLinks {
		if _, err := sys.Lstat(l[1]); err == nil {
			continue
		}
		if err := sys.Symlink(l[0], l[1]); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("symlink %s: %w", l[1], err)
		}
	}
	return nil
}

// System is the state Boot leaves behind.
type System struct {
	Config   Config
	Timeline *Timeline
	Log      *log.Logger
	Console  io.Writer

	// ModulesLoaded is closed once every listed module has been tried and the disk links
	// made (after LoadRemainingModules); ModuleErrors may be read only after that.
	ModulesLoaded <-chan struct{}
	ModuleErrors  []ModuleError

	loaded      chan struct{}
	lateModules []string
	loadOnce    sync.Once
}

// LoadRemainingModules loads, in the background and at idle priority (runIdle), the listed
// modules Boot left out (all but the transport's), then makes the disk links and closes
// ModulesLoaded. Idempotent.
func (s *System) LoadRemainingModules() {
	s.loadOnce.Do(func() {
		runIdle(func() {
			defer close(s.loaded)
			s.ModuleErrors = append(s.ModuleErrors, LoadModules(s.lateModules, FinitModule)...)
			for _, e := range s.ModuleErrors {
				s.Log.Printf("boot: %v", e)
			}
			if s.Config.Debug {
				s.Log.Printf("boot: %d modules failed", len(s.ModuleErrors))
			}
			if err := RefreshDiskLinks(); err != nil {
				s.Log.Printf("boot: disk links: %v", err)
			}
			s.Timeline.Mark("modules")
		}, func(err error) { s.Log.Printf("boot: background modules at normal priority: %v", err) })
	})
}

// LogPrefix starts every agent log line on the console.
const LogPrefix = "vessel-agent: "

// Boot does the PID-1 duties in order and records them in the timeline. Failures
// that leave the guest usable (a module, the hostname, lo, disk links) are logged
// and Boot continues; failing early mounts are returned.
func Boot() (*System, error) {
	tl := NewTimeline()
	loaded := make(chan struct{})
	s := &System{Config: DefaultConfig(), Timeline: tl, Console: os.Stderr, ModulesLoaded: loaded, loaded: loaded}
	s.Log = log.New(os.Stderr, LogPrefix, 0)
	tl.Mark("start")
	_ = os.Setenv("PATH", GuestPath)
	rootErr := MakeRootPivotable(OSRootSys{})
	if err := MountEarly(OSSys{}); err != nil {
		s.Log.Printf("boot: %v", err)
		return s, err
	}
	tl.Mark("mounts")

	if con, err := OpenConsole(); err == nil {
		s.Console = con
		s.Log.SetOutput(con)
	} else {
		s.Log.Printf("boot: console: %v", err)
	}
	if rootErr != nil {
		s.Log.Printf("boot: %v (containers need runc --no-pivot)", rootErr)
	}

	if b, err := os.ReadFile("/proc/cmdline"); err == nil {
		var warnings []string
		s.Config, warnings = ParseCmdline(string(b))
		for _, w := range warnings {
			s.Log.Printf("cmdline: %s", w)
		}
	} else {
		s.Log.Printf("boot: %v", err)
	}

	var paths []string
	if f, err := os.Open(ModulesList); err == nil {
		paths, err = ParseModulesList(f)
		f.Close()
		if err != nil {
			s.Log.Printf("boot: %v", err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		s.Log.Printf("boot: %v", err)
	}
	// The transport's modules now; everything else (block, net, fs, vsock) later, via
	// LoadRemainingModules, so the host can connect sooner. Without PCI devices (microvm)
	// the virtio-pci modules wait too.
	early := TransportModules
	if !hasPCIDevices() {
		early = withoutPCI(TransportModules)
	}
	first, rest := SplitModules(paths, early)
	s.ModuleErrors = LoadModules(first, FinitModule)
	s.lateModules = rest
	tl.Mark("modules-transport")

	if err := unix.Sethostname([]byte(s.Config.Hostname)); err != nil {
		s.Log.Printf("boot: hostname: %v", err)
	}
	tl.Mark("system")
	return s, nil
}

// hasPCIDevices reports whether the VM has a PCI bus with devices (q35: yes; microvm: no).
func hasPCIDevices() bool {
	entries, err := os.ReadDir("/sys/bus/pci/devices")
	return err == nil && len(entries) > 0
}

func withoutPCI(set map[string]bool) map[string]bool {
	out := make(map[string]bool, len(set))
	for name := range set {
		if !strings.HasPrefix(name, "virtio_pci") {
			out[name] = true
		}
	}
	return out
}

// OpenConsole opens /dev/console and makes it the agent's stdin, stdout and stderr.
func OpenConsole() (*os.File, error) {
	con, err := os.OpenFile("/dev/console", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	for _, fd := range []int{0, 1, 2} {
		if int(con.Fd()) == fd {
			continue
		}
		if err := unix.Dup3(int(con.Fd()), fd, 0); err != nil {
			return con, fmt.Errorf("dup console to fd %d: %w", fd, err)
		}
	}
	return con, nil
}

// Describe renders the module errors for logs.
func (s *System) Describe() string {
	var parts []string
	for _, e := range s.ModuleErrors {
		parts = append(parts, e.Error())
	}
	return strings.Join(parts, "; ")
}
