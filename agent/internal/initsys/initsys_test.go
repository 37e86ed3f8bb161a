package initsys

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestParseCmdline(t *testing.T) {
	cfg, warn := ParseCmdline("console=ttyS0 panic=-1 quiet vessel.hostname=box-1 vessel.transport=vsock:1024 vessel.debug=1\n")
	if cfg != (Config{Hostname: "box-1", Transport: TransportVsock, VsockPort: 1024, Debug: true}) || len(warn) != 0 {
		t.Fatalf("%+v %q", cfg, warn)
	}
	cfg, warn = ParseCmdline("quiet")
	if cfg != DefaultConfig() || len(warn) != 0 {
		t.Fatalf("defaults: %+v %q", cfg, warn)
	}
	cfg, warn = ParseCmdline("vessel.hostname=-bad vessel.transport=vsock:x vessel.transport=tcp vessel.nope=1 vessel.debug=0")
	if cfg != DefaultConfig() || len(warn) != 4 {
		t.Fatalf("bad values: %+v %q", cfg, warn)
	}
	cfg, _ = ParseCmdline("vessel.transport=vsock:5 vessel.transport=virtio-serial")
	if cfg.Transport != TransportVirtioSerial {
		t.Fatalf("last key wins: %+v", cfg)
	}
	if _, warn := ParseCmdline("vessel.hostname=" + strings.Repeat("a", 65)); len(warn) != 1 {
		t.Fatal("over-long hostname accepted")
	}
}

func TestModules(t *testing.T) {
	paths, err := ParseModulesList(strings.NewReader("# deps first\n/lib/modules/6.1/virtio_ring.ko\n\n  /lib/modules/6.1/virtio.ko  \n/lib/modules/6.1/bad.ko\n/lib/modules/6.1/virtio_console.ko\n"))
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	errs := LoadModules(paths, func(p string) error {
		order = append(order, filepath.Base(p))
		switch filepath.Base(p) {
		case "virtio.ko":
			return unix.EEXIST
		case "bad.ko":
			return unix.ENOEXEC
		}
		return nil
	})
	if !reflect.DeepEqual(order, []string{"virtio_ring.ko", "virtio.ko", "bad.ko", "virtio_console.ko"}) {
		t.Fatalf("order %q", order)
	}
	if len(errs) != 1 || errs[0].Path != "/lib/modules/6.1/bad.ko" || !errors.Is(errs[0].Err, unix.ENOEXEC) {
		t.Fatalf("errs %v", errs)
	}
	if _, err := ParseModulesList(strings.NewReader("virtio.ko\n")); err == nil {
		t.Fatal("relative path accepted")
	}
	// A real finit_module on a non-module fails (EPERM as non-root, ENOEXEC/EINVAL as root), never panics.
	f := filepath.Join(t.TempDir(), "x.ko")
	os.WriteFile(f, []byte("not a module"), 0o644)
	if err := FinitModule(f); err == nil {
		t.Fatal("finit_module of garbage succeeded")
	}
}

func TestDiskLinks(t *testing.T) {
	root := t.TempDir()
	sys, dev, byid := filepath.Join(root, "sys"), filepath.Join(root, "dev"), filepath.Join(root, "dev/disk/by-id")
	mk := func(name, serial string) {
		os.MkdirAll(filepath.Join(sys, name), 0o755)
		if serial != "-" {
			os.WriteFile(filepath.Join(sys, name, "serial"), []byte(serial), 0o444)
		}
	}
	mk("vda", "rootdisk\n")
	mk("vdb", "-")       // no serial file
	mk("vdc", "")        // empty serial
	mk("vdd", "../evil") // bad charset
	mk("sda", "scsi")    // not virtio
	mk("vde", "data_2")
	if err := MakeDiskLinks(sys, dev, byid); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(byid)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !reflect.DeepEqual(names, []string{"virtio-data_2", "virtio-rootdisk"}) {
		t.Fatalf("links %q", names)
	}
	if l, _ := os.Readlink(filepath.Join(byid, "virtio-rootdisk")); l != filepath.Join(dev, "vda") {
		t.Fatalf("target %q", l)
	}
	// Called again after a disk changed: the link follows.
	os.WriteFile(filepath.Join(sys, "vde", "serial"), []byte("rootdisk"), 0o444)
	os.WriteFile(filepath.Join(sys, "vda", "serial"), []byte("other"), 0o444)
	if err := MakeDiskLinks(sys, dev, byid); err != nil {
		t.Fatal(err)
	}
	if l, _ := os.Readlink(filepath.Join(byid, "virtio-rootdisk")); l != filepath.Join(dev, "vde") {
		t.Fatalf("target after refresh %q", l)
	}
	if err := MakeDiskLinks(filepath.Join(root, "missing"), dev, byid); err != nil {
		t.Fatalf("no /sys/block: %v", err)
	}
}

func TestUnmountAll(t *testing.T) {
	targets, err := ParseMounts(strings.NewReader("rootfs / rootfs rw 0 0\nproc /proc proc rw 0 0\ndevtmpfs /dev devtmpfs rw 0 0\nshare /mnt/my\\040dir virtiofs rw 0 0\nfoo /gone x rw 0 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	var calls []string
	errs := UnmountAll(targets, func(target string, flags int) error {
		calls = append(calls, fmt.Sprintf("%s %d", target, flags))
		switch {
		case target == "/dev" && flags == 0:
			return unix.EBUSY
		case target == "/gone":
			return unix.EINVAL
		case target == "/proc":
			return unix.EPERM
		}
		return nil
	})
	want := []string{"/gone 0", "/mnt/my dir 0", "/dev 0", fmt.Sprintf("/dev %d", unix.MNT_DETACH), "/proc 0"}
	if !reflect.DeepEqual(calls, want) {
		t.Fatalf("calls %q", calls)
	}
	if len(errs) != 1 || !errors.Is(errs[0], unix.EPERM) {
		t.Fatalf("errs %v", errs)
	}
}

type fakeSys struct {
	calls  []string
	exists map[string]bool
	fail   string
}

func (f *fakeSys) MkdirAll(p string, _ os.FileMode) error { return nil }
func (f *fakeSys) Mount(source, target, fstype string, flags uintptr, data string) error {
	f.calls = append(f.calls, fmt.Sprintf("mount %s %s %s", fstype, target, data))
	if target == f.fail {
		return unix.ENODEV
	}
	if target == "/dev" {
		return unix.EBUSY // already mounted is fine
	}
	return nil
}
func (f *fakeSys) Lstat(p string) (os.FileInfo, error) {
	if f.exists[p] {
		return nil, nil
	}
	return nil, os.ErrNotExist
}
func (f *fakeSys) Symlink(o, n string) error {
	f.calls = append(f.calls, "link "+n+" -> "+o)
	return nil
}

func TestMountEarly(t *testing.T) {
	fs := &fakeSys{exists: map[string]bool{"/dev/ptmx": true}}
	if err := MountEarly(fs); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"mount proc /proc ", "mount sysfs /sys ", "mount devtmpfs /dev mode=0755",
		"mount devpts /dev/pts newinstance,ptmxmode=0666,mode=0620,gid=5",
		"mount tmpfs /dev/shm mode=1777", "mount tmpfs /tmp mode=1777", "mount tmpfs /run mode=0755",
		"mount cgroup2 /sys/fs/cgroup nsdelegate",
		"link /dev/fd -> /proc/self/fd", "link /dev/stdin -> /proc/self/fd/0",
		"link /dev/stdout -> /proc/self/fd/1", "link /dev/stderr -> /proc/self/fd/2",
	}
	if !reflect.DeepEqual(fs.calls, want) {
		t.Fatalf("calls\n%q\nwant\n%q", fs.calls, want)
	}
	fs = &fakeSys{fail: "/sys"}
	if err := MountEarly(fs); !errors.Is(err, unix.ENODEV) || len(fs.calls) != 2 {
		t.Fatalf("failed mount: %v after %q", err, fs.calls)
	}
}

func TestTimeline(t *testing.T) {
	start := time.Now().Add(-time.Second)
	tl := NewTimelineAt(start)
	tl.Mark("a")
	tl.Mark("b")
	ev := tl.Events()
	if len(ev) != 2 || ev[0].Name != "a" || ev[1].Name != "b" || ev[0].AtNs < int64(time.Second) || ev[1].AtNs < ev[0].AtNs {
		t.Fatalf("%+v", ev)
	}
	for i := 0; i < 100; i++ {
		tl.Mark("x")
	}
	if len(tl.Events()) != 64 {
		t.Fatal("timeline not bounded")
	}
}

func TestSplitModulesKeepsOrderAndTakesTransportModules(t *testing.T) {
	paths := []string{
		"/lib/modules/r/kernel/drivers/virtio/virtio_ring.ko",
		"/lib/modules/r/kernel/drivers/virtio/virtio.ko",
		"/lib/modules/r/kernel/drivers/block/virtio_blk.ko",
		"/lib/modules/r/kernel/drivers/virtio/virtio_mmio.ko",
		"/lib/modules/r/kernel/net/core/failover.ko",
		"/lib/modules/r/kernel/drivers/char/virtio_console.ko",
		"/lib/modules/r/kernel/fs/fuse/virtiofs.ko",
	}
	first, rest := SplitModules(paths, TransportModules)
	wantFirst := []string{paths[0], paths[1], paths[3], paths[5]}
	wantRest := []string{paths[2], paths[4], paths[6]}
	if strings.Join(first, ",") != strings.Join(wantFirst, ",") {
		t.Fatalf("first = %v, want %v", first, wantFirst)
	}
	if strings.Join(rest, ",") != strings.Join(wantRest, ",") {
		t.Fatalf("rest = %v, want %v", rest, wantRest)
	}
	if ModuleName("/x/snd-hda-intel.ko") != "snd_hda_intel" {
		t.Fatal("ModuleName must map '-' to '_' and drop .ko")
	}
}

func TestParseMountTable(t *testing.T) {
	got, err := ParseMountTable(strings.NewReader("rootfs / rootfs rw 0 0\ndata /mnt/my\\040dir virtiofs rw 0 0\nshort\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []MountEntry{{"rootfs", "/", "rootfs"}, {"data", "/mnt/my dir", "virtiofs"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %+v", got)
	}
}

func TestSyncWithinGoesOnWithoutASyncThatHangs(t *testing.T) {
	if !SyncWithin(time.Second, func() {}) {
		t.Fatal("a sync that returns at once was reported as not finished")
	}
	stuck := make(chan struct{})
	defer close(stuck)
	start := time.Now()
	if SyncWithin(50*time.Millisecond, func() { <-stuck }) {
		t.Fatal("a sync that never returns was reported as finished")
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("took %v", took)
	}
}
