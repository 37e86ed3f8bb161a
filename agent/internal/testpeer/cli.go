package testpeer

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

const usage = `usage:
  vessel-testpeer server --listen PATH [--ttrpc-only] [--window BYTES] [--stream-close-timeout-ms N] [--keepalive-ms N] [--accept-backlog N]
      (SIGUSR1: send a yamux GoAway on every open session; SIGTERM/SIGINT: exit 0)
  vessel-testpeer client --connect PATH [--ttrpc-only] --checks LIST [--check-timeout-ms N]
  vessel-testpeer bench-mux --bytes N [--streams K] [--chunk B]
  vessel-testpeer bench-ttrpc --connect PATH [--yamux] [--seconds S] [--concurrency C] [--payload B]
`

// Main runs the vessel-testpeer command line; stdout gets only machine-readable lines,
// logs go to stderr. It returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	logger := log.New(stderr, "vessel-testpeer: ", log.LstdFlags|log.Lmicroseconds)
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	code := 0
	switch args[0] {
	case "server":
		err = mainServer(ctx, args[1:], stdout, logger)
	case "client":
		code, err = mainClient(ctx, args[1:], stdout, logger)
	case "bench-mux":
		err = mainBenchMux(args[1:], stdout, logger)
	case "bench-ttrpc":
		err = mainBenchTTRPC(ctx, args[1:], stdout, logger)
	default:
		fmt.Fprint(stderr, usage)
		return 2
	}
	if err != nil {
		logger.Print(err)
		return 1
	}
	return code
}

func newFlags(name string, logger *log.Logger) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(logger.Writer())
	return fs
}

func mainServer(ctx context.Context, args []string, stdout io.Writer, logger *log.Logger) error {
	fs := newFlags("server", logger)
	listen := fs.String("listen", "", "unix socket path")
	ttrpcOnly := fs.Bool("ttrpc-only", false, "serve ttrpc directly, no yamux")
	window := fs.Uint("window", 0, "yamux max stream window (bytes)")
	closeMS := fs.Int("stream-close-timeout-ms", 0, "yamux stream close timeout")
	keepMS := fs.Int("keepalive-ms", 0, "yamux keepalive interval (off if 0)")
	backlog := fs.Int("accept-backlog", 0, "yamux accept backlog")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *listen == "" {
		return fmt.Errorf("server: --listen is required")
	}
	// SIGUSR1 asks for a GoAway on every open session (for tests of the TS client).
	goAway := make(chan struct{}, 1)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGUSR1)
	defer signal.Stop(sigs)
	go func() {
		for {
			select {
			case <-sigs:
				select {
				case goAway <- struct{}{}:
				default:
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return RunServer(ctx, ServerOptions{
		GoAwayRequests:     goAway,
		Listen:             *listen,
		TTRPCOnly:          *ttrpcOnly,
		Window:             uint32(*window),
		StreamCloseTimeout: time.Duration(*closeMS) * time.Millisecond,
		KeepAlive:          time.Duration(*keepMS) * time.Millisecond,
		AcceptBacklog:      *backlog,
		Log:                logger,
		Ready:              func() { fmt.Fprintln(stdout, "READY") },
	})
}

func mainClient(ctx context.Context, args []string, stdout io.Writer, logger *log.Logger) (int, error) {
	fs := newFlags("client", logger)
	connect := fs.String("connect", "", "unix socket path")
	ttrpcOnly := fs.Bool("ttrpc-only", false, "speak ttrpc directly, no yamux")
	list := fs.String("checks", "", "comma-separated checks")
	timeoutMS := fs.Int("check-timeout-ms", 0, "per-check timeout (default 120000)")
	if err := fs.Parse(args); err != nil {
		return 0, err
	}
	if *connect == "" || *list == "" {
		return 0, fmt.Errorf("client: --connect and --checks are required")
	}
	ok, err := RunClient(ctx, ClientOptions{
		Connect:      *connect,
		TTRPCOnly:    *ttrpcOnly,
		Checks:       strings.Split(*list, ","),
		CheckTimeout: time.Duration(*timeoutMS) * time.Millisecond,
		Log:          logger,
	}, stdout)
	if err != nil {
		return 1, err
	}
	if !ok {
		return 1, nil
	}
	return 0, nil
}
