package sysinfo

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// userHZ is the unit of /proc/stat's CPU times: USER_HZ, fixed at 100 by the Linux ABI
// (independent of the kernel's CONFIG_HZ).
const userHZ = 100

// CPUTimes is the guest's CPU time since boot, in nanoseconds: user (user + nice) and
// system (system + irq + softirq) over all CPUs, and each CPU's busy time (user + system)
// in /proc/stat's cpuN order. Idle, iowait and steal are not busy time.
type CPUTimes struct {
	UserNs   uint64
	SystemNs uint64
	PerCPUNs []uint64
}

// ParseCPUStat reads the "cpu" and "cpuN" lines of /proc/stat.
func ParseCPUStat(r io.Reader) (CPUTimes, error) {
	var t CPUTimes
	haveTotal := false
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || !strings.HasPrefix(f[0], "cpu") {
			continue
		}
		user, system, err := cpuLine(f)
		if err != nil {
			return CPUTimes{}, err
		}
		if f[0] == "cpu" {
			t.UserNs, t.SystemNs, haveTotal = user, system, true
		} else {
			t.PerCPUNs = append(t.PerCPUNs, user+system)
		}
	}
	if err := sc.Err(); err != nil {
		return CPUTimes{}, err
	}
	if !haveTotal {
		return CPUTimes{}, fmt.Errorf("/proc/stat: no cpu line")
	}
	return t, nil
}

// cpuLine parses "cpuX user nice system idle iowait irq softirq …" into user and
// system nanoseconds.
func cpuLine(f []string) (user, system uint64, err error) {
	if len(f) < 8 {
		return 0, 0, fmt.Errorf("/proc/stat: %s: want at least 7 values, got %d", f[0], len(f)-1)
	}
	var v [7]uint64
	for i := range v {
		if v[i], err = strconv.ParseUint(f[i+1], 10, 64); err != nil {
			return 0, 0, fmt.Errorf("/proc/stat: %s: bad value %q", f[0], f[i+1])
		}
	}
	const ns = 1_000_000_000 / userHZ
	return (v[0] + v[1]) * ns, (v[2] + v[5] + v[6]) * ns, nil
}
