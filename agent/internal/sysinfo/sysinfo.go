// Package sysinfo reads what the agent reports in Info: uname, uptime, online CPUs,
// memory and CPU time, from /proc and /sys. Missing or malformed sources give an error naming the
// file; parsers are exported separately so they can be tested on fixtures.
package sysinfo

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Info is the guest's state as reported by the Info RPC.
type Info struct {
	KernelRelease string
	KernelVersion string
	Hostname      string
	UptimeSeconds float64
	CPUs          uint32
	MemTotal      uint64 // bytes
	MemAvailable  uint64 // bytes
	CPUTime       CPUTimes
}

// Read reads Info from the running system.
func Read() (Info, error) { return ReadFrom("/proc", "/sys") }

// ReadFrom reads Info with proc and sys mounted at procDir and sysDir; uname and the
// hostname come from the kernel.
func ReadFrom(procDir, sysDir string) (Info, error) {
	var info Info
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return info, fmt.Errorf("uname: %w", err)
	}
	info.KernelRelease = unix.ByteSliceToString(u.Release[:])
	info.KernelVersion = unix.ByteSliceToString(u.Version[:])
	info.Hostname = unix.ByteSliceToString(u.Nodename[:])

	b, err := os.ReadFile(filepath.Join(procDir, "uptime"))
	if err != nil {
		return info, err
	}
	if info.UptimeSeconds, err = ParseUptime(string(b)); err != nil {
		return info, err
	}

	info.CPUs = uint32(runtime.NumCPU())
	if b, err := os.ReadFile(filepath.Join(sysDir, "devices/system/cpu/online")); err == nil {
		if n, err := ParseCPUList(string(b)); err == nil && n > 0 {
			info.CPUs = uint32(n)
		}
	}

	f, err := os.Open(filepath.Join(procDir, "meminfo"))
	if err != nil {
		return info, err
	}
	defer f.Close()
	if info.MemTotal, info.MemAvailable, err = ParseMeminfo(f); err != nil {
		return info, err
	}

	st, err := os.Open(filepath.Join(procDir, "stat"))
	if err != nil {
		return info, err
	}
	defer st.Close()
	info.CPUTime, err = ParseCPUStat(st)
	return info, err
}

// ParseUptime parses /proc/uptime ("12.34 56.78").
func ParseUptime(s string) (float64, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return 0, fmt.Errorf("/proc/uptime: empty")
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("/proc/uptime: bad value %q", fields[0])
	}
	return v, nil
}

// ParseCPUList counts the CPUs in a kernel cpu list such as "0-3,5,7-8".
func ParseCPUList(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n := 0
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return 0, fmt.Errorf("cpu list %q: bad entry %q", s, part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return 0, fmt.Errorf("cpu list %q: bad range %q", s, part)
			}
		}
		n += b - a + 1
	}
	return n, nil
}

// ParseMeminfo returns MemTotal and MemAvailable in bytes from /proc/meminfo.
func ParseMeminfo(r io.Reader) (total, available uint64, err error) {
	var haveTotal, haveAvail bool
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "MemTotal" && key != "MemAvailable") {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return 0, 0, fmt.Errorf("meminfo: %s has no value", key)
		}
		v, perr := strconv.ParseUint(f[0], 10, 64)
		if perr != nil {
			return 0, 0, fmt.Errorf("meminfo: %s: %w", key, perr)
		}
		if len(f) > 1 && f[1] == "kB" {
			v *= 1024
		}
		if key == "MemTotal" {
			total, haveTotal = v, true
		} else {
			available, haveAvail = v, true
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, err
	}
	if !haveTotal || !haveAvail {
		return 0, 0, fmt.Errorf("meminfo: MemTotal or MemAvailable missing")
	}
	return total, available, nil
}
