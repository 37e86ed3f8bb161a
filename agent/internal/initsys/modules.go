package initsys

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// ModulesList is where the image lists the modules to load, in order.
const ModulesList = "/etc/vessel/modules.list"

// ParseModulesList reads one absolute path per line; blank lines and lines starting
// with '#' are skipped. Relative paths are an error.
func ParseModulesList(r io.Reader) ([]string, error) {
	var paths []string
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !strings.HasPrefix(line, "/") {
			return nil, fmt.Errorf("modules.list line %d: not an absolute path: %q", n, line)
		}
		paths = append(paths, line)
	}
	return paths, sc.Err()
}

// TransportModules are the modules the host connection needs (virtio buses and
// virtio_console). Boot loads them (and only them) before it opens the transport; the
// rest load in the background so the agent answers sooner.
var TransportModules = map[string]bool{
	"virtio_ring": true, "virtio": true, "virtio_mmio": true,
	"virtio_pci_modern_dev": true, "virtio_pci_legacy_dev": true, "virtio_pci": true,
	"virtio_console": true,
}

// ModuleName is the kernel's name for a module file: basename without .ko, '-' as '_'.
func ModuleName(path string) string {
	base := path[strings.LastIndex(path, "/")+1:]
	base = strings.TrimSuffix(base, ".ko")
	return strings.ReplaceAll(base, "-", "_")
}

// SplitModules keeps the list's order and splits it into the modules named in early and
// the rest. The list is in dependency order and early is closed under dependencies, so
// loading early first and the rest afterwards preserves the order's guarantees.
func SplitModules(paths []string, early map[string]bool) (first, rest []string) {
	for _, p := range paths {
		if early[ModuleName(p)] {
			first = append(first, p)
		} else {
			rest = append(rest, p)
		}
	}
	return first, rest
}

// ModuleError is a module that failed to load.
type ModuleError struct {
	Path string
	Err  error
}

func (e ModuleError) Error() string { return fmt.Sprintf("load %s: %v", e.Path, e.Err) }

// LoadModules loads paths in order with load; EEXIST (built in or already loaded)
// counts as success. It continues past failures and returns them.
func LoadModules(paths []string, load func(path string) error) []ModuleError {
	var errs []ModuleError
	for _, p := range paths {
		if err := load(p); err != nil && !errors.Is(err, unix.EEXIST) {
			errs = append(errs, ModuleError{Path: p, Err: err})
		}
	}
	return errs
}

// FinitModule loads one uncompressed .ko file with finit_module(2).
func FinitModule(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.FinitModule(int(f.Fd()), "", 0)
}
