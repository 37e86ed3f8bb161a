package sysinfo

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParseCPUStat(t *testing.T) {
	in := "cpu  10 2 30 400 5 6 7 8 0 0\n" +
		"cpu0 4 1 10 200 2 3 4 4 0 0\n" +
		"cpu1 6 1 20 200 3 3 3 4 0 0\n" +
		"intr 12345 0 1\nctxt 999\nbtime 1700000000\n"
	got, err := ParseCPUStat(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	const tick = 10_000_000 // ns per USER_HZ tick
	want := CPUTimes{UserNs: 12 * tick, SystemNs: 43 * tick, PerCPUNs: []uint64{22 * tick, 33 * tick}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestParseCPUStatRejects(t *testing.T) {
	for name, in := range map[string]string{
		"no cpu line":   "intr 1\n",
		"short line":    "cpu 1 2 3\n",
		"bad value":     "cpu 1 2 x 4 5 6 7\n",
		"bad cpuN line": "cpu 1 2 3 4 5 6 7\ncpu0 1 -2 3 4 5 6 7\n",
	} {
		if _, err := ParseCPUStat(strings.NewReader(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParseCPUStatThisSystem(t *testing.T) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		t.Skip("no /proc/stat")
	}
	defer f.Close()
	got, err := ParseCPUStat(f)
	if err != nil || len(got.PerCPUNs) == 0 || got.UserNs+got.SystemNs == 0 {
		t.Fatalf("%+v %v", got, err)
	}
}
