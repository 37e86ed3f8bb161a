package mounts

import (
	"errors"
	"reflect"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"vessel.dev/agent/internal/initsys"
)

type fakeFence struct {
	table   []initsys.MountEntry
	calls   []string
	deadErr error
}

func (f *fakeFence) Mounts() ([]initsys.MountEntry, error) { return f.table, nil }
func (f *fakeFence) Detach(target string) error {
	f.calls = append(f.calls, "detach "+target)
	return nil
}
func (f *fakeFence) MountDead(source, target string) error {
	f.calls = append(f.calls, "dead "+source+" "+target)
	return f.deadErr
}

func TestFenceShareReplacesEveryMountOfTheTagLastFirst(t *testing.T) {
	ff := &fakeFence{table: []initsys.MountEntry{
		{Source: "rootfs", Target: "/", FSType: "rootfs"},
		{Source: "data", Target: "/mnt/data", FSType: "virtiofs"},
		{Source: "other", Target: "/mnt/other", FSType: "virtiofs"},
		{Source: "data", Target: "/srv/again", FSType: "virtiofs"},
		{Source: "data", Target: "/mnt/notvirtiofs", FSType: "ext4"},
	}}
	fenced, err := (&ShareFencer{Sys: ff}).FenceShare("data")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/srv/again", "/mnt/data"}; !reflect.DeepEqual(fenced, want) {
		t.Fatalf("fenced %q, want %q", fenced, want)
	}
	want := []string{"detach /srv/again", "dead failed:data /srv/again", "detach /mnt/data", "dead failed:data /mnt/data"}
	if !reflect.DeepEqual(ff.calls, want) {
		t.Fatalf("calls %q, want %q", ff.calls, want)
	}
}

func TestFenceShareWithNoMountLeftIsNoError(t *testing.T) {
	ff := &fakeFence{table: []initsys.MountEntry{{Source: "failed:data", Target: "/mnt/data", FSType: DeadFSType}}}
	fenced, err := (&ShareFencer{Sys: ff}).FenceShare("data")
	if err != nil || len(fenced) != 0 || len(ff.calls) != 0 {
		t.Fatalf("fenced %q err %v calls %q", fenced, err, ff.calls)
	}
}

func TestFenceShareErrors(t *testing.T) {
	if _, err := (&ShareFencer{Sys: &fakeFence{}}).FenceShare("../x"); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("bad tag: %v", err)
	}
	ff := &fakeFence{table: []initsys.MountEntry{{Source: "data", Target: "/mnt/data", FSType: "virtiofs"}}, deadErr: errors.New("no /dev/fuse")}
	if _, err := (&ShareFencer{Sys: ff}).FenceShare("data"); status.Code(err) != codes.Internal {
		t.Fatalf("dead mount failure: %v", err)
	}
}
