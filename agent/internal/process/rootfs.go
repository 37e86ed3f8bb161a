package process

import (
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Mounter is the system-call surface that prepares a container rootfs; OSMounter is the
// real one.
type Mounter interface {
	MkdirAll(p string, perm os.FileMode) error
	Mount(source, target, fstype string, flags uintptr, data string) error
	Unmount(target string, flags int) error
}

// OSMounter performs real mounts.
type OSMounter struct{}

func (OSMounter) MkdirAll(p string, perm os.FileMode) error { return os.MkdirAll(p, perm) }
func (OSMounter) Mount(source, target, fstype string, flags uintptr, data string) error {
	return unix.Mount(source, target, fstype, flags, data)
}
func (OSMounter) Unmount(target string, flags int) error { return unix.Unmount(target, flags) }

type rootMount struct {
	source, target, fstype string
	flags                  uintptr
	data                   string
}

// rootMounts are what a process chrooted into root needs, in order: proc, sysfs
// (read-only, as runc gives an unprivileged container), the guest's /dev with /dev/pts
// (recursive bind: the agent's ptys are usable inside) and a private tmpfs on /tmp.
func rootMounts(root string) []rootMount {
	return []rootMount{
		{"proc", filepath.Join(root, "proc"), "proc", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
		{"sysfs", filepath.Join(root, "sys"), "sysfs", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RDONLY, ""},
		{"/dev", filepath.Join(root, "dev"), "", unix.MS_BIND | unix.MS_REC, ""},
		{"tmpfs", filepath.Join(root, "tmp"), "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=1777"},
	}
}

// roots prepares each rootfs once (the mounts stay for the VM's life: a VM serves one
// container). A failed preparation is undone, so a later Exec tries again from scratch.
type roots struct {
	sys  Mounter
	mu   sync.Mutex
	done map[string]bool
}

func newRoots(sys Mounter) *roots {
	return &roots{sys: sys, done: map[string]bool{}}
}

func (r *roots) prepare(root string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done[root] {
		return nil
	}
	var mounted []string
	for _, m := range rootMounts(root) {
		err := r.sys.MkdirAll(m.target, 0o755)
		if err == nil {
			err = r.sys.Mount(m.source, m.target, m.fstype, m.flags, m.data)
		}
		if err != nil {
			for i := len(mounted) - 1; i >= 0; i-- {
				_ = r.sys.Unmount(mounted[i], unix.MNT_DETACH)
			}
			return status.Errorf(codes.Internal, "rootfs %q: mounting %s on %s: %v", root, m.source, m.target, err)
		}
		mounted = append(mounted, m.target)
	}
	r.done[root] = true
	return nil
}
