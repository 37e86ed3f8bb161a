package initsys

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// MakeDiskLinks creates byIDDir/virtio-<serial> → devDir/<name> for every sysBlock/vd*
// that has a non-empty serial (what udev does for virtio-blk). Existing links are
// replaced when they point elsewhere. Serials are checked against the charset the
// Mount RPC accepts; others are skipped. It returns the first error but tries every disk.
func MakeDiskLinks(sysBlock, devDir, byIDDir string) error {
	entries, err := os.ReadDir(sysBlock)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	var first error
	note := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "vd") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(sysBlock, name, "serial"))
		if err != nil {
			continue // no serial attribute: nothing to link
		}
		serial := strings.TrimSpace(string(b))
		if !validSerial(serial) {
			continue
		}
		if err := os.MkdirAll(byIDDir, 0o755); err != nil {
			return err
		}
		link := filepath.Join(byIDDir, "virtio-"+serial)
		target := filepath.Join(devDir, name)
		if cur, err := os.Readlink(link); err == nil {
			if cur == target {
				continue
			}
			note(os.Remove(link))
		}
		note(os.Symlink(target, link))
	}
	return first
}

// RefreshDiskLinks runs MakeDiskLinks on the real /sys/block and /dev.
func RefreshDiskLinks() error {
	return MakeDiskLinks("/sys/block", "/dev", "/dev/disk/by-id")
}

func validSerial(s string) bool {
	if s == "" || len(s) > 20 || s == "." || s == ".." {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
