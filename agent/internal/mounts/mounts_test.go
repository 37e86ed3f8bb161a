package mounts

import (
	"context"
	"os"
	"testing"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"vessel.dev/agent/internal/agentpb"
)

type call struct {
	op                     string
	source, target, fstype string
	flags                  uintptr
	data                   string
}

type fakeSys struct {
	calls    []call
	exists   map[string]bool
	mountErr error
}

func (f *fakeSys) MkdirAll(p string, _ os.FileMode) error {
	f.calls = append(f.calls, call{op: "mkdir", target: p})
	return nil
}
func (f *fakeSys) Stat(p string) (os.FileInfo, error) {
	if f.exists[p] {
		return nil, nil
	}
	return nil, os.ErrNotExist
}
func (f *fakeSys) Mount(source, target, fstype string, flags uintptr, data string) error {
	f.calls = append(f.calls, call{"mount", source, target, fstype, flags, data})
	return f.mountErr
}

func TestVirtiofsMount(t *testing.T) {
	fs := &fakeSys{}
	m := &Mounter{Sys: fs}
	err := m.Mount(context.Background(), &agentpb.MountRequest{
		Source: &agentpb.MountRequest_VirtiofsTag{VirtiofsTag: "share0"}, Target: "/mnt/x",
		ReadOnly: true, Options: []string{"noatime", "dax=never"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []call{{op: "mkdir", target: "/mnt/x"},
		{"mount", "share0", "/mnt/x", "virtiofs", unix.MS_RDONLY | unix.MS_NOATIME, "dax=never"}}
	if len(fs.calls) != 2 || fs.calls[0] != want[0] || fs.calls[1] != want[1] {
		t.Fatalf("calls %+v", fs.calls)
	}
}

func TestBlockMount(t *testing.T) {
	fs := &fakeSys{exists: map[string]bool{"/d/virtio-disk1": true}}
	refreshed := 0
	m := &Mounter{Sys: fs, ByIDDir: "/d", RefreshLinks: func() error { refreshed++; return nil }}
	req := &agentpb.MountRequest{Source: &agentpb.MountRequest_BlockId{BlockId: "disk1"}, Target: "/data", Fstype: "ext4"}
	if err := m.Mount(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if refreshed != 1 || fs.calls[1] != (call{"mount", "/d/virtio-disk1", "/data", "ext4", 0, ""}) {
		t.Fatalf("refreshed %d calls %+v", refreshed, fs.calls)
	}
	req.Source = &agentpb.MountRequest_BlockId{BlockId: "nope"}
	if err := m.Mount(context.Background(), req); status.Code(err) != codes.NotFound {
		t.Fatalf("missing disk: %v", err)
	}
	fs.mountErr = unix.EBUSY
	req.Source = &agentpb.MountRequest_BlockId{BlockId: "disk1"}
	if err := m.Mount(context.Background(), req); status.Code(err) != codes.Internal {
		t.Fatalf("mount failure: %v", err)
	}
}

func TestInvalidTouchesNothing(t *testing.T) {
	tag := func(s string) *agentpb.MountRequest_VirtiofsTag {
		return &agentpb.MountRequest_VirtiofsTag{VirtiofsTag: s}
	}
	blk := func(s string) *agentpb.MountRequest_BlockId { return &agentpb.MountRequest_BlockId{BlockId: s} }
	bad := []*agentpb.MountRequest{
		{Source: tag("a"), Target: "rel/path"},
		{Source: tag("a"), Target: "/a/../b"},
		{Source: tag("a"), Target: "/"},
		{Source: tag("a"), Target: ""},
		{Source: tag(""), Target: "/m"},
		{Source: tag("0123456789012345678901234567890123456"), Target: "/m"},
		{Source: blk("../../sda"), Target: "/m", Fstype: "ext4"},
		{Source: blk("d"), Target: "/m"},                   // no fstype
		{Source: blk("d"), Target: "/m", Fstype: "ext4 x"}, // bad fstype
		{Target: "/m"}, // no source
		{Source: tag("a"), Target: "/m", Options: []string{"a,b"}},
		{Source: tag("a"), Target: "/m", Options: []string{""}},
	}
	for i, req := range bad {
		fs := &fakeSys{exists: map[string]bool{"/dev/disk/by-id/virtio-d": true}}
		m := &Mounter{Sys: fs, RefreshLinks: func() error { t.Fatalf("case %d refreshed links", i); return nil }}
		err := m.Mount(context.Background(), req)
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("case %d: %v", i, err)
		}
		if len(fs.calls) != 0 {
			t.Errorf("case %d touched the system: %+v", i, fs.calls)
		}
	}
}
