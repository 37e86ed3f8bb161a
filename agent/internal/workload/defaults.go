package workload

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The agent's reserve: what the workload subtree's default limits leave to the agent and the
// kernel.
const (
	// MemoryReserve is held back from MemAvailable at boot: the agent's own memory (a few MiB
	// of RSS, its stream buffers) and the kernel's that no cgroup is charged for.
	MemoryReserve = 32 << 20
	// TaskReserve is held back from min(pid_max, threads-max): the kernel's threads (about 50
	// in a small guest, more kworkers under load) and the agent's (tens). threads-max counts
	// every task and binds root too, so without it a fork bomb stops the agent's runtime from
	// making the thread it needs.
	TaskReserve = 256
	// FloorMemoryMax and FloorPidsMax are the floor of the defaults on a tiny guest.
	FloorMemoryMax = 16 << 20
	FloorPidsMax   = 64
)

// DefaultLimits are the workload subtree's limits on a guest with memAvailable bytes
// available (MemAvailable at boot, when the initramfs and the kernel already took theirs) and
// at most min(pidMax, threadsMax) tasks: each less the agent's reserve, at least the floor.
func DefaultLimits(memAvailable, pidMax, threadsMax uint64) Limits {
	tasks := min(pidMax, threadsMax)
	l := Limits{MemoryMax: FloorMemoryMax, PidsMax: FloorPidsMax}
	if memAvailable > MemoryReserve+FloorMemoryMax {
		l.MemoryMax = memAvailable - MemoryReserve
	}
	if tasks > TaskReserve+FloorPidsMax {
		l.PidsMax = tasks - TaskReserve
	}
	return l
}

// ReadDefaults reads what DefaultLimits needs from proc (/proc): meminfo's MemAvailable and
// sys/kernel/pid_max and threads-max.
func ReadDefaults(proc string) (Limits, error) {
	meminfo, err := os.ReadFile(filepath.Join(proc, "meminfo"))
	if err != nil {
		return Limits{}, err
	}
	avail, err := memInfoBytes(meminfo, "MemAvailable")
	if err != nil {
		return Limits{}, err
	}
	var n [2]uint64
	for i, name := range []string{"pid_max", "threads-max"} {
		if n[i], err = readUint(filepath.Join(proc, "sys", "kernel", name)); err != nil {
			return Limits{}, err
		}
	}
	return DefaultLimits(avail, n[0], n[1]), nil
}

// memInfoBytes is one /proc/meminfo field ("Key:   1234 kB") in bytes.
func memInfoBytes(meminfo []byte, key string) (uint64, error) {
	sc := bufio.NewScanner(bytes.NewReader(meminfo))
	for sc.Scan() {
		k, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != key {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			break
		}
		v, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("meminfo %s: %w", key, err)
		}
		if len(f) > 1 && f[1] == "kB" {
			v <<= 10
		}
		return v, nil
	}
	return 0, fmt.Errorf("meminfo has no %s", key)
}

func readUint(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// parseOOMKills reads oom_kill from a memory.events file.
func parseOOMKills(events []byte) (uint64, error) {
	for _, line := range strings.Split(string(events), "\n") {
		if v, ok := strings.CutPrefix(line, "oom_kill "); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("memory.events oom_kill: %w", err)
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("memory.events has no oom_kill line")
}
