package mounts

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"vessel.dev/agent/internal/initsys"
)

// FenceSys is the system-call surface the ShareFencer uses; OSFence is the real one.
type FenceSys interface {
	// Mounts lists the mount table (/proc/self/mounts) in mount order.
	Mounts() ([]initsys.MountEntry, error)
	// Detach unmounts target lazily (MNT_DETACH): no request reaches the filesystem.
	Detach(target string) error
	// MountDead mounts a FUSE filesystem nobody serves on target: every access fails.
	MountDead(source, target string) error
}

// DeadFSType is the type of the mount that replaces a fenced share.
const DeadFSType = "fuse.vessel-failed"

// ShareFencer fences the mounts of a share whose virtiofsd died (FenceDevice): each is
// detached and a dead FUSE mount takes its place, so that accesses fail with ENOTCONN at
// once instead of waiting for a server that is gone, and nothing written there lands in
// the guest's root instead. Linux offers no way to abort the virtiofs connection itself
// (virtiofs is neither in fusectl nor force-unmountable): requests already sent stay
// unanswered.
type ShareFencer struct {
	Sys FenceSys
}

// FenceShare fences every virtiofs mount of tag (the last mounted first) and returns their
// mount points; none left is no error.
func (f *ShareFencer) FenceShare(tag string) ([]string, error) {
	if !validName(tag, maxTagLen) {
		return nil, status.Errorf(codes.InvalidArgument, "fence: bad virtio-fs tag %q", tag)
	}
	table, err := f.Sys.Mounts()
	if err != nil {
		return nil, status.Errorf(codes.Internal, "fence share %s: %v", tag, err)
	}
	var fenced []string
	for i := len(table) - 1; i >= 0; i-- {
		m := table[i]
		if m.FSType != "virtiofs" || m.Source != tag {
			continue
		}
		if err := f.Sys.Detach(m.Target); err != nil {
			return fenced, status.Errorf(codes.Internal, "fence share %s: detach %s: %v", tag, m.Target, err)
		}
		if err := f.Sys.MountDead("failed:"+tag, m.Target); err != nil {
			return fenced, status.Errorf(codes.Internal, "fence share %s: dead mount on %s: %v", tag, m.Target, err)
		}
		fenced = append(fenced, m.Target)
	}
	return fenced, nil
}

// OSFence performs real detaches and dead mounts.
type OSFence struct{}

func (OSFence) Mounts() ([]initsys.MountEntry, error) {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return initsys.ParseMountTable(f)
}

func (OSFence) Detach(target string) error { return unix.Unmount(target, unix.MNT_DETACH) }

// MountDead mounts /dev/fuse on target and closes the device at once: the kernel aborts a
// FUSE connection whose device is closed, and every request on it then fails with ENOTCONN.
func (OSFence) MountDead(source, target string) error {
	fd, err := unix.Open("/dev/fuse", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	data := fmt.Sprintf("fd=%d,rootmode=40000,user_id=0,group_id=0", fd)
	return unix.Mount(source, target, DeadFSType, unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, data)
}
