package testpeer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/containerd/ttrpc"
	"github.com/hashicorp/yamux"

	"vessel.dev/agent/internal/testpb"
)

// BenchTTRPCResult is the bench-ttrpc output line.
type BenchTTRPCResult struct {
	Impl    string  `json:"impl"`
	Calls   int64   `json:"calls"`
	Seconds float64 `json:"seconds"`
	RPS     float64 `json:"rps"`
	Errors  int64   `json:"errors"`
}

// BenchTTRPCOptions configures BenchTTRPC.
type BenchTTRPCOptions struct {
	Connect     string
	Yamux       bool
	Duration    time.Duration
	Warmup      time.Duration
	Concurrency int
	Payload     int
}

func mainBenchTTRPC(ctx context.Context, args []string, stdout io.Writer, logger *log.Logger) error {
	fs := newFlags("bench-ttrpc", logger)
	connect := fs.String("connect", "", "unix socket path")
	useYamux := fs.Bool("yamux", false, "ttrpc over the first stream of a yamux session")
	seconds := fs.Float64("seconds", 3, "measured duration")
	conc := fs.Int("concurrency", 16, "concurrent callers")
	payload := fs.Int("payload", 64, "Echo payload bytes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *connect == "" || *seconds <= 0 || *conc <= 0 || *payload < 0 {
		return fmt.Errorf("bench-ttrpc: --connect is required; --seconds and --concurrency must be positive")
	}
	res, err := BenchTTRPC(ctx, BenchTTRPCOptions{
		Connect: *connect, Yamux: *useYamux, Duration: time.Duration(*seconds * float64(time.Second)),
		Warmup: 500 * time.Millisecond, Concurrency: *conc, Payload: *payload,
	}, logger.Writer())
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(res)
}

// BenchTTRPC calls Echo from opts.Concurrency goroutines, counting calls after the warm-up.
func BenchTTRPC(ctx context.Context, opts BenchTTRPCOptions, logOut io.Writer) (BenchTTRPCResult, error) {
	conn, err := net.Dial("unix", opts.Connect)
	if err != nil {
		return BenchTTRPCResult{}, err
	}
	var ctl net.Conn = conn
	if opts.Yamux {
		sess, err := yamux.Client(conn, yamuxConfig(0, 0, 0, 0, logOut))
		if err != nil {
			_ = conn.Close()
			return BenchTTRPCResult{}, err
		}
		defer sess.Close()
		if ctl, err = sess.OpenStream(); err != nil {
			return BenchTTRPCResult{}, err
		}
	}
	client := ttrpc.NewClient(ctl)
	defer client.Close()
	api := testpb.NewInteropTestClient(client)

	payload := patternBytes(0, opts.Payload)
	var counting atomic.Bool
	var calls, errs atomic.Int64
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	for i := 0; i < opts.Concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for runCtx.Err() == nil {
				resp, err := api.Echo(runCtx, &testpb.EchoRequest{Payload: payload})
				if runCtx.Err() != nil {
					return
				}
				if !counting.Load() {
					continue
				}
				if err != nil || len(resp.Payload) != len(payload) {
					errs.Add(1)
					continue
				}
				calls.Add(1)
			}
		}()
	}
	warm := time.NewTimer(opts.Warmup)
	defer warm.Stop()
	select {
	case <-warm.C:
	case <-ctx.Done():
		return BenchTTRPCResult{}, ctx.Err()
	}
	counting.Store(true)
	start := time.Now()
	measure := time.NewTimer(opts.Duration)
	defer measure.Stop()
	select {
	case <-measure.C:
	case <-ctx.Done():
	}
	counting.Store(false)
	secs := time.Since(start).Seconds()
	n, e := calls.Load(), errs.Load()
	stop()
	wg.Wait()
	return BenchTTRPCResult{Impl: "go-ttrpc-client", Calls: n, Seconds: secs, RPS: float64(n) / secs, Errors: e}, nil
}
