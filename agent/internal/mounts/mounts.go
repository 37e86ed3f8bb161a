// Package mounts implements the Mount RPC: a virtio-fs share by tag, or a virtio-blk
// disk by serial (/dev/disk/by-id/virtio-<id>), mounted at an absolute target that is
// created if missing. The whole request is validated (absolute clean target, tag/id
// charset and length, fstype, options) before anything is touched; errors carry ttrpc
// status codes (INVALID_ARGUMENT, NOT_FOUND for a missing disk, INTERNAL otherwise).
// Well-known flag options (ro, noatime, nosuid, ...) become mount flags; the rest is
// passed to the filesystem as data.
package mounts

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"vessel.dev/agent/internal/agentpb"
)

// Sys is the system-call surface the Mounter uses; OS is the real one.
type Sys interface {
	MkdirAll(path string, perm os.FileMode) error
	Stat(path string) (os.FileInfo, error)
	Mount(source, target, fstype string, flags uintptr, data string) error
}

// OS performs real mounts.
type OS struct{}

func (OS) MkdirAll(p string, perm os.FileMode) error { return os.MkdirAll(p, perm) }
func (OS) Stat(p string) (os.FileInfo, error)        { return os.Stat(p) }
func (OS) Mount(source, target, fstype string, flags uintptr, data string) error {
	return unix.Mount(source, target, fstype, flags, data)
}

// Spec is one validated mount.
type Spec struct {
	Source string
	Target string
	FSType string
	Flags  uintptr
	Data   string
	Block  bool // Source is a block device under the by-id directory
}

// Mounter serves Mount requests.
type Mounter struct {
	Sys Sys
	// ByIDDir is where virtio-<serial> links live (default /dev/disk/by-id).
	ByIDDir string
	// RefreshLinks recreates the by-id links before a block mount (there is no udev).
	RefreshLinks func() error
}

const (
	maxTagLen    = 36 // virtio-fs tag field
	maxSerialLen = 20 // virtio-blk serial field
	maxOptions   = 64
	maxOptLen    = 256
)

var flagOptions = map[string]uintptr{
	"ro": unix.MS_RDONLY, "rw": 0, "noatime": unix.MS_NOATIME, "nodiratime": unix.MS_NODIRATIME,
	"relatime": unix.MS_RELATIME, "strictatime": unix.MS_STRICTATIME, "nosuid": unix.MS_NOSUID,
	"nodev": unix.MS_NODEV, "noexec": unix.MS_NOEXEC, "sync": unix.MS_SYNCHRONOUS,
	"dirsync": unix.MS_DIRSYNC, "lazytime": unix.MS_LAZYTIME, "suid": 0, "dev": 0, "exec": 0,
	"async": 0, "atime": 0, "diratime": 0, "defaults": 0,
}

func invalid(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, "mount: "+format, args...)
}

func validName(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return s != "." && s != ".."
}

// Plan validates req and returns the mount to perform. byIDDir is where block devices are looked up.
func Plan(req *agentpb.MountRequest, byIDDir string) (Spec, error) {
	var sp Spec
	t := req.GetTarget()
	if !strings.HasPrefix(t, "/") || filepath.Clean(t) != t || strings.ContainsRune(t, 0) || len(t) > 4096 {
		return sp, invalid("target must be an absolute clean path, got %q", t)
	}
	if t == "/" {
		return sp, invalid("cannot mount over /")
	}
	sp.Target = t
	if len(req.GetOptions()) > maxOptions {
		return sp, invalid("too many options")
	}
	var data []string
	for _, o := range req.GetOptions() {
		if o == "" || len(o) > maxOptLen || strings.ContainsAny(o, ",\x00") {
			return sp, invalid("bad option %q", o)
		}
		if f, ok := flagOptions[o]; ok {
			sp.Flags |= f
			continue
		}
		data = append(data, o)
	}
	if req.GetReadOnly() {
		sp.Flags |= unix.MS_RDONLY
	}
	sp.Data = strings.Join(data, ",")

	switch src := req.GetSource().(type) {
	case *agentpb.MountRequest_VirtiofsTag:
		if !validName(src.VirtiofsTag, maxTagLen) {
			return sp, invalid("bad virtio-fs tag %q", src.VirtiofsTag)
		}
		sp.Source, sp.FSType = src.VirtiofsTag, "virtiofs"
	case *agentpb.MountRequest_BlockId:
		if !validName(src.BlockId, maxSerialLen) {
			return sp, invalid("bad block id %q", src.BlockId)
		}
		fs := req.GetFstype()
		if !validName(fs, 32) {
			return sp, invalid("block mounts need an fstype, got %q", fs)
		}
		sp.Source, sp.FSType, sp.Block = filepath.Join(byIDDir, "virtio-"+src.BlockId), fs, true
	default:
		return sp, invalid("no source: set virtiofs_tag or block_id")
	}
	return sp, nil
}

// Mount validates and performs req.
func (m *Mounter) Mount(ctx context.Context, req *agentpb.MountRequest) error {
	dir := m.ByIDDir
	if dir == "" {
		dir = "/dev/disk/by-id"
	}
	sp, err := Plan(req, dir)
	if err != nil {
		return err
	}
	if sp.Block {
		if m.RefreshLinks != nil {
			if err := m.RefreshLinks(); err != nil {
				return status.Errorf(codes.Internal, "mount: refresh %s: %v", dir, err)
			}
		}
		if _, err := m.Sys.Stat(sp.Source); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return status.Errorf(codes.NotFound, "mount: no disk with serial %q (%s)", req.GetBlockId(), sp.Source)
			}
			return status.Errorf(codes.Internal, "mount: %v", err)
		}
	}
	if err := m.Sys.MkdirAll(sp.Target, 0o755); err != nil {
		return status.Errorf(codes.Internal, "mount: create %s: %v", sp.Target, err)
	}
	if err := m.Sys.Mount(sp.Source, sp.Target, sp.FSType, sp.Flags, sp.Data); err != nil {
		code := codes.Internal
		if errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENOENT) {
			code = codes.NotFound // unknown fstype or virtio-fs tag
		}
		return status.Errorf(code, "mount %s (%s) on %s: %v", sp.Source, sp.FSType, sp.Target, err)
	}
	return nil
}

// String renders a Spec for logs.
func (s Spec) String() string {
	return fmt.Sprintf("%s on %s type %s flags %#x data %q", s.Source, s.Target, s.FSType, s.Flags, s.Data)
}
