package initsys

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// RootBindDir is where MakeRootPivotable binds the root before moving it onto /; the
// directory is removed again afterwards.
const RootBindDir = "/.vessel-root"

// RootSys is the system-call surface of MakeRootPivotable; OSRootSys is the real one.
type RootSys interface {
	Mkdir(path string, perm os.FileMode) error
	Mount(source, target, fstype string, flags uintptr, data string) error
	Chdir(path string) error
	Chroot(path string) error
	Remove(path string) error
}

// OSRootSys performs the real system calls.
type OSRootSys struct{}

func (OSRootSys) Mkdir(p string, perm os.FileMode) error { return os.Mkdir(p, perm) }
func (OSRootSys) Mount(source, target, fstype string, flags uintptr, data string) error {
	return unix.Mount(source, target, fstype, flags, data)
}
func (OSRootSys) Chdir(p string) error  { return unix.Chdir(p) }
func (OSRootSys) Chroot(p string) error { return unix.Chroot(p) }
func (OSRootSys) Remove(p string) error { return os.Remove(p) }

// MakeRootPivotable replaces the initramfs root by a bind mount of itself. The initramfs
// is the kernel's rootfs mount, which has no parent, so pivot_root(2) fails with EINVAL in
// every mount namespace cloned from it, and runc could then only jail a container with
// --no-pivot (MS_MOVE and chroot, which leaves the guest's root reachable from a container
// that escapes the chroot). A bind mount of / moved onto / has a parent, so pivot_root
// works. Steps: bind / onto RootBindDir, enter it, move it onto /, chroot into it, and
// remove the (now plain) directory. It costs a few system calls and copies nothing. It must
// run before anything else is mounted (the bind is not recursive).
func MakeRootPivotable(sys RootSys) error {
	if err := sys.Mkdir(RootBindDir, 0o700); err != nil {
		return fmt.Errorf("pivotable root: mkdir %s: %w", RootBindDir, err)
	}
	if err := sys.Mount("/", RootBindDir, "", unix.MS_BIND, ""); err != nil {
		_ = sys.Remove(RootBindDir)
		return fmt.Errorf("pivotable root: bind / on %s: %w", RootBindDir, err)
	}
	steps := []struct {
		what string
		do   func() error
	}{
		{"chdir " + RootBindDir, func() error { return sys.Chdir(RootBindDir) }},
		{"move it onto /", func() error { return sys.Mount(".", "/", "", unix.MS_MOVE, "") }},
		{"chroot", func() error { return sys.Chroot(".") }},
		{"chdir /", func() error { return sys.Chdir("/") }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			return fmt.Errorf("pivotable root: %s: %w", s.what, err)
		}
	}
	if err := sys.Remove(RootBindDir); err != nil {
		return fmt.Errorf("pivotable root: remove %s: %w", RootBindDir, err)
	}
	return nil
}
