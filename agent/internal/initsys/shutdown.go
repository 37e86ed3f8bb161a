package initsys

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// ParseMounts returns the mount points of a /proc/self/mounts text in mount order.
// Octal escapes (\040 for space) are decoded.
func ParseMounts(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		out = append(out, unescapeMount(f[1]))
	}
	return out, sc.Err()
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

// PowerOff syncs, unmounts everything and powers the VM off. It returns only on failure.
func PowerOff(logf func(string, ...any)) error {
	unix.Sync()
	if f, err := os.Open("/proc/self/mounts"); err == nil {
		targets, _ := ParseMounts(f)
		f.Close()
		for _, err := range UnmountAll(targets, unix.Unmount) {
			logf("shutdown: %v", err)
		}
	} else {
		logf("shutdown: %v", err)
	}
	unix.Sync()
	return unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
}
