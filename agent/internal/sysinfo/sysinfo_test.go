package sysinfo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseCPUList(t *testing.T) {
	cases := map[string]int{"0": 1, "0-1\n": 2, "0-3,5,7-8": 7, "": 0}
	for in, want := range cases {
		got, err := ParseCPUList(in)
		if err != nil || got != want {
			t.Errorf("%q: %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"x", "3-1", "1-", "-1"} {
		if _, err := ParseCPUList(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestParseMeminfo(t *testing.T) {
	in := "MemTotal:         238000 kB\nMemFree:          1000 kB\nMemAvailable:     200000 kB\n"
	total, avail, err := ParseMeminfo(strings.NewReader(in))
	if err != nil || total != 238000*1024 || avail != 200000*1024 {
		t.Fatalf("%d %d %v", total, avail, err)
	}
	if _, _, err := ParseMeminfo(strings.NewReader("MemTotal: 1 kB\n")); err == nil {
		t.Fatal("missing MemAvailable accepted")
	}
	if _, _, err := ParseMeminfo(strings.NewReader("MemTotal: x kB\nMemAvailable: 1 kB\n")); err == nil {
		t.Fatal("bad value accepted")
	}
}

func TestParseUptime(t *testing.T) {
	if v, err := ParseUptime("2.50 1.00\n"); err != nil || v != 2.5 {
		t.Fatalf("%v %v", v, err)
	}
	for _, bad := range []string{"", "x 1", "-1 0"} {
		if _, err := ParseUptime(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestReadFromFixture(t *testing.T) {
	proc, sys := t.TempDir(), t.TempDir()
	write := func(p, s string) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(proc, "uptime"), "7.25 3.00\n")
	write(filepath.Join(proc, "meminfo"), "MemTotal: 4 kB\nMemAvailable: 2 kB\n")
	write(filepath.Join(proc, "stat"), "cpu 1 0 2 9 0 0 0\ncpu0 1 0 2 9 0 0 0\n")
	write(filepath.Join(sys, "devices/system/cpu/online"), "0-2\n")
	info, err := ReadFrom(proc, sys)
	if err != nil {
		t.Fatal(err)
	}
	if info.UptimeSeconds != 7.25 || info.CPUs != 3 || info.MemTotal != 4096 || info.MemAvailable != 2048 || info.KernelRelease == "" ||
		info.CPUTime.UserNs != 10_000_000 || info.CPUTime.SystemNs != 20_000_000 || len(info.CPUTime.PerCPUNs) != 1 {
		t.Fatalf("%+v", info)
	}
}
