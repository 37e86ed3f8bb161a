// Command vessel-testpeer is the Go reference peer (real yamux and ttrpc) for vessel's
// interop tests and benchmarks. See internal/testpeer for the command line.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"vessel.dev/agent/internal/testpeer"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := testpeer.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
