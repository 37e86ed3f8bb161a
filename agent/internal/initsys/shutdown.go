package initsys

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// MountEntry is one line of /proc/self/mounts.
type MountEntry struct {
	Source, Target, FSType string
}

// ParseMountTable returns the entries of a /proc/self/mounts text in mount order. Octal
// escapes (\040 for space) are decoded.
func ParseMountTable(r io.Reader) ([]MountEntry, error) {
	var out []MountEntry
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 {
			continue
		}
		out = append(out, MountEntry{Source: unescapeMount(f[0]), Target: unescapeMount(f[1]), FSType: unescapeMount(f[2])})
	}
	return out, sc.Err()
}

// ParseMounts returns the mount points of a /proc/self/mounts text in mount order.
func ParseMounts(r io.Reader) ([]string, error) {
	entries, err := ParseMountTable(r)
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.Target)
	}
	return out, err
}

func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// UnmountAll unmounts targets in reverse order, skipping "/"; a busy mount is detached
// lazily. It returns the failures.
func UnmountAll(targets []string, unmount func(target string, flags int) error) []error {
	var errs []error
	for i := len(targets) - 1; i >= 0; i-- {
		t := targets[i]
		if t == "/" {
			continue
		}
		err := unmount(t, 0)
		if errors.Is(err, unix.EBUSY) {
			err = unmount(t, unix.MNT_DETACH)
		}
		if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			// EINVAL/ENOENT: already gone (e.g. under a lazily detached parent).
			errs = append(errs, &os.PathError{Op: "umount", Path: t, Err: err})
		}
	}
	return errs
}

// SyncDeadline bounds each sync of PowerOff: a filesystem whose server is gone (a share
// whose virtiofsd died) never finishes one, and power-off must not wait for it.
const SyncDeadline = time.Second

// SyncWithin runs sync and reports whether it returned within d. One that does not stays
// blocked in its own goroutine (in the kernel); the caller goes on without it.
func SyncWithin(d time.Duration, sync func()) bool {
	done := make(chan struct{})
	go func() {
		sync()
		close(done)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// PowerOff syncs, unmounts everything and powers the VM off. It returns only on failure.
// A sync that does not finish within SyncDeadline is left behind (unmounting still flushes
// each filesystem that can be flushed), so a dead share cannot stop the power-off.
func PowerOff(logf func(string, ...any)) error {
	synced := SyncWithin(SyncDeadline, unix.Sync)
	if !synced {
		logf("shutdown: sync did not finish within %v (a filesystem whose server is gone?); going on", SyncDeadline)
	}
	if f, err := os.Open("/proc/self/mounts"); err == nil {
		targets, _ := ParseMounts(f)
		f.Close()
		for _, err := range UnmountAll(targets, unix.Unmount) {
			logf("shutdown: %v", err)
		}
	} else {
		logf("shutdown: %v", err)
	}
	if synced {
		SyncWithin(SyncDeadline, unix.Sync)
	}
	return unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
}
