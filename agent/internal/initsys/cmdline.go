package initsys

import (
	"fmt"
	"strconv"
	"strings"
)

// Transport kinds on the kernel command line.
const (
	TransportVirtioSerial = "virtio-serial"
	TransportVsock        = "vsock"
)

// Config is what the kernel command line tells the agent.
type Config struct {
	Hostname  string // vessel.hostname (validHostname), default "vessel"
	Transport string // TransportVirtioSerial (default) or TransportVsock
	VsockPort uint32 // with TransportVsock
	Debug     bool   // vessel.debug=1
}

// DefaultConfig is the configuration without any vessel.* keys.
func DefaultConfig() Config {
	return Config{Hostname: "vessel", Transport: TransportVirtioSerial}
}

// ParseCmdline reads the vessel.* keys of a kernel command line. Bad values keep the
// default and are reported in warnings (Boot logs them on the console and goes on: a bad
// vessel.hostname leaves the hostname "vessel"); unknown vessel.* keys are reported too.
// The last valid value of a key wins.
func ParseCmdline(cmdline string) (cfg Config, warnings []string) {
	cfg = DefaultConfig()
	for _, field := range strings.Fields(cmdline) {
		key, val, _ := strings.Cut(field, "=")
		if !strings.HasPrefix(key, "vessel.") {
			continue
		}
		switch key {
		case "vessel.hostname":
			if validHostname(val) {
				cfg.Hostname = val
			} else {
				warnings = append(warnings, fmt.Sprintf("ignoring bad vessel.hostname %q", val))
			}
		case "vessel.transport":
			switch {
			case val == TransportVirtioSerial:
				cfg.Transport = TransportVirtioSerial
			case strings.HasPrefix(val, "vsock:"):
				p, err := strconv.ParseUint(strings.TrimPrefix(val, "vsock:"), 10, 32)
				if err != nil || p == 0 || p == 0xFFFFFFFF {
					warnings = append(warnings, fmt.Sprintf("ignoring bad vessel.transport %q", val))
					continue
				}
				cfg.Transport, cfg.VsockPort = TransportVsock, uint32(p)
			default:
				warnings = append(warnings, fmt.Sprintf("ignoring bad vessel.transport %q", val))
			}
		case "vessel.debug":
			cfg.Debug = val == "1" || val == "true" || val == ""
		default:
			warnings = append(warnings, fmt.Sprintf("ignoring unknown key %q", key))
		}
	}
	return cfg, warnings
}

// MaxHostnameLen is the kernel's limit on the hostname (__NEW_UTS_LEN).
const MaxHostnameLen = 64

// validHostname is the rule for vessel.hostname (the host validates with the same rule):
// 1..MaxHostnameLen bytes of dot-separated labels, each 1..63 bytes of ASCII letters,
// digits, '-' and '_', neither starting nor ending with '-'. That is RFC 1123 (so every
// Kubernetes pod hostname, at most 63 bytes of lowercase labels) plus '_', which OCI
// hostnames may carry (container names). No empty label: no leading, trailing or doubled
// dot. A leading '-' could be read as an option by tools.
func validHostname(s string) bool {
	return ValidHostname(s)
}

// ValidHostname is validHostname for other packages (AfterRestore sets a hostname too).
func ValidHostname(s string) bool {
	if s == "" || len(s) > MaxHostnameLen {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
