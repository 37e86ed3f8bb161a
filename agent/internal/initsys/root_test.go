package initsys

import (
	"errors"
	"os"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

type fakeRootSys struct {
	calls    []string
	failBind bool
}

func (f *fakeRootSys) Mkdir(p string, _ os.FileMode) error {
	f.calls = append(f.calls, "mkdir "+p)
	return nil
}
func (f *fakeRootSys) Mount(source, target, _ string, flags uintptr, _ string) error {
	switch flags {
	case unix.MS_BIND:
		f.calls = append(f.calls, "bind "+source+" "+target)
		if f.failBind {
			return unix.EPERM
		}
	case unix.MS_MOVE:
		f.calls = append(f.calls, "move "+source+" "+target)
	default:
		f.calls = append(f.calls, "mount?")
	}
	return nil
}
func (f *fakeRootSys) Chdir(p string) error  { f.calls = append(f.calls, "chdir "+p); return nil }
func (f *fakeRootSys) Chroot(p string) error { f.calls = append(f.calls, "chroot "+p); return nil }
func (f *fakeRootSys) Remove(p string) error { f.calls = append(f.calls, "rm "+p); return nil }

func TestMakeRootPivotable(t *testing.T) {
	f := &fakeRootSys{}
	if err := MakeRootPivotable(f); err != nil {
		t.Fatal(err)
	}
	want := []string{"mkdir /.vessel-root", "bind / /.vessel-root", "chdir /.vessel-root", "move . /", "chroot .", "chdir /", "rm /.vessel-root"}
	if !reflect.DeepEqual(f.calls, want) {
		t.Fatalf("calls\n%q\nwant\n%q", f.calls, want)
	}
	f = &fakeRootSys{failBind: true}
	if err := MakeRootPivotable(f); !errors.Is(err, unix.EPERM) {
		t.Fatalf("failed bind: %v", err)
	}
	if want := []string{"mkdir /.vessel-root", "bind / /.vessel-root", "rm /.vessel-root"}; !reflect.DeepEqual(f.calls, want) {
		t.Fatalf("after a failed bind: %q, want %q (the directory removed, nothing else)", f.calls, want)
	}
}
