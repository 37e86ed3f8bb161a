// Package version holds the agent's version string, set at build time with
// -ldflags "-X vessel.dev/agent/internal/version.Version=...". Default "dev".
package version

// Version is reported by Ping and Info.
var Version = "dev"
