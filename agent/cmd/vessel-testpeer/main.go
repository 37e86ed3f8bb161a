// Command vessel-testpeer is the Go reference peer (real yamux and ttrpc) for vessel's
// interop tests and benchmarks. See internal/testpeer for the command line.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"

	"vessel.dev/agent/internal/testpeer"
)

func main() {
	// Die with the process that started us (a test runner that crashed or was killed),
	// so no peer outlives its test. If that parent is already gone, exit now.
	parent := os.Getppid()
	_ = unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0)
	if os.Getppid() != parent {
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := testpeer.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
