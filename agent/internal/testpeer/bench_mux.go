package testpeer

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/yamux"
)

// BenchMuxResult is the bench-mux output line.
type BenchMuxResult struct {
	Impl    string  `json:"impl"`
	Bytes   int64   `json:"bytes"`
	Streams int     `json:"streams"`
	Seconds float64 `json:"seconds"`
	MiBps   float64 `json:"mibps"`
}

func mainBenchMux(args []string, stdout io.Writer, logger *log.Logger) error {
	fs := newFlags("bench-mux", logger)
	total := fs.Int64("bytes", 0, "bytes to move client->server")
	streams := fs.Int("streams", 1, "streams")
	chunk := fs.Int("chunk", 64<<10, "write size")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *total <= 0 || *streams <= 0 || *chunk <= 0 {
		return fmt.Errorf("bench-mux: --bytes, --streams and --chunk must be positive")
	}
	res, err := BenchMux(*total, *streams, *chunk, logger.Writer())
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(res)
}

// BenchMux moves total bytes over streams yamux streams on one AF_UNIX connection
// inside this process, timing first write to last byte read.
func BenchMux(total int64, streams, chunk int, logOut io.Writer) (BenchMuxResult, error) {
	dir, err := os.MkdirTemp("", "vessel-bench-mux-")
	if err != nil {
		return BenchMuxResult{}, err
	}
	defer os.RemoveAll(dir)
	l, err := net.Listen("unix", filepath.Join(dir, "mux.sock"))
	if err != nil {
		return BenchMuxResult{}, err
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	cc, err := net.Dial("unix", l.Addr().String())
	if err != nil {
		return BenchMuxResult{}, err
	}
	sc, ok := <-accepted
	if !ok {
		return BenchMuxResult{}, fmt.Errorf("bench-mux: accept failed")
	}
	cfg := yamuxConfig(0, 0, 0, 0, logOut)
	client, err := yamux.Client(cc, cfg)
	if err != nil {
		return BenchMuxResult{}, err
	}
	defer client.Close()
	server, err := yamux.Server(sc, cfg)
	if err != nil {
		return BenchMuxResult{}, err
	}
	defer server.Close()

	var received atomic.Int64
	var startOnce sync.Once
	var start time.Time
	var readers, writers sync.WaitGroup
	errs := make(chan error, 2*streams)
	readers.Add(streams)
	go func() {
		for i := 0; i < streams; i++ {
			st, err := server.AcceptStream()
			if err != nil {
				errs <- err
				for ; i < streams; i++ {
					readers.Done()
				}
				return
			}
			go func() {
				defer readers.Done()
				n, err := io.Copy(io.Discard, st)
				received.Add(n)
				if err != nil {
					errs <- err
				}
			}()
		}
	}()
	buf := make([]byte, chunk)
	for i := 0; i < streams; i++ {
		share := total / int64(streams)
		if i == streams-1 {
			share = total - share*int64(streams-1)
		}
		st, err := client.OpenStream()
		if err != nil {
			return BenchMuxResult{}, err
		}
		writers.Add(1)
		go func() {
			defer writers.Done()
			startOnce.Do(func() { start = time.Now() })
			for left := share; left > 0; {
				n := min(int64(len(buf)), left)
				if _, err := st.Write(buf[:n]); err != nil {
					errs <- err
					return
				}
				left -= n
			}
			if err := st.Close(); err != nil {
				errs <- err
			}
		}()
	}
	writers.Wait()
	readers.Wait()
	secs := time.Since(start).Seconds()
	select {
	case err := <-errs:
		return BenchMuxResult{}, err
	default:
	}
	if got := received.Load(); got != total {
		return BenchMuxResult{}, fmt.Errorf("bench-mux: received %d of %d bytes", got, total)
	}
	return BenchMuxResult{Impl: "go-yamux", Bytes: total, Streams: streams, Seconds: secs, MiBps: float64(total) / (1 << 20) / secs}, nil
}
