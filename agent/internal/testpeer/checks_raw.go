package testpeer

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/rand"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"

	"vessel.dev/agent/internal/testpb"
)

// expectRawResult asks the server how its side of raw stream name ended.
func expectRawResult(ctx context.Context, env *checkEnv, name string, read uint64, crc uint32, written uint64) error {
	res, err := env.api.RawResult(ctx, &testpb.RawResultRequest{Name: name})
	if err != nil {
		return fmt.Errorf("RawResult(%s): %w", name, err)
	}
	if res.End != endEOF || res.BytesRead != read || res.Crc32 != crc || res.BytesWritten != written {
		return fmt.Errorf("RawResult(%s) = read %d crc %08x written %d end %q %q; want read %d crc %08x written %d end eof",
			name, res.BytesRead, res.Crc32, res.BytesWritten, res.End, res.Error, read, crc, written)
	}
	return nil
}

// writeRandom writes n seeded random bytes to w and returns their CRC-32.
func writeRandom(w io.Writer, seed int64, n int) (uint32, error) {
	rng := rand.New(rand.NewSource(seed))
	crc := crc32.NewIEEE()
	buf := make([]byte, 64<<10)
	for left := n; left > 0; {
		chunk := buf[:min(len(buf), left)]
		_, _ = rng.Read(chunk)
		_, _ = crc.Write(chunk)
		if _, err := w.Write(chunk); err != nil {
			return 0, err
		}
		left -= len(chunk)
	}
	return crc.Sum32(), nil
}

// readAllCRC reads r to EOF and returns the byte count and CRC-32.
func readAllCRC(r io.Reader) (int, uint32, error) {
	crc := crc32.NewIEEE()
	n, err := io.Copy(crc, r)
	return int(n), crc.Sum32(), err
}

// parallelSizes spreads n sizes geometrically from lo to hi, both included.
func parallelSizes(n, lo, hi int) []int {
	sizes := make([]int, n)
	for i := range sizes {
		sizes[i] = int(math.Round(float64(lo) * math.Pow(float64(hi)/float64(lo), float64(i)/float64(n-1))))
	}
	return sizes
}

// echoRoundTrip writes size random bytes on an echo stream while reading the echo,
// FINs after writing, and checks the echo byte count and CRC-32.
func echoRoundTrip(ctx context.Context, env *checkEnv, name string, seed int64, size int) (uint32, error) {
	st, err := env.openRaw(ctx, "echo:"+name)
	if err != nil {
		return 0, err
	}
	var sent uint32
	wrote := make(chan error, 1)
	go func() {
		var err error
		if sent, err = writeRandom(st, seed, size); err != nil {
			wrote <- fmt.Errorf("%s write: %w", name, err)
			return
		}
		wrote <- st.Close()
	}()
	n, got, rerr := readAllCRC(st)
	if err := <-wrote; err != nil {
		return 0, err
	}
	if rerr != nil {
		return 0, fmt.Errorf("%s read: %w", name, rerr)
	}
	if n != size || got != sent {
		return 0, fmt.Errorf("%s: echoed %d bytes crc %08x, sent %d crc %08x", name, n, got, size, sent)
	}
	return sent, nil
}

func checkRawParallel(ctx context.Context, env *checkEnv) (string, error) {
	if err := env.needYamux(); err != nil {
		return "", err
	}
	sizes := parallelSizes(8, 32<<10, 32<<20)
	crcs := make([]uint32, len(sizes))
	start := time.Now()
	errs := make([]error, len(sizes))
	var wg sync.WaitGroup
	total := 0
	for i, size := range sizes {
		total += size
		wg.Add(1)
		go func() {
			defer wg.Done()
			crcs[i], errs[i] = echoRoundTrip(ctx, env, fmt.Sprintf("p%d", i), int64(100+i), size)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	secs := time.Since(start).Seconds()
	for i, size := range sizes {
		if err := expectRawResult(ctx, env, fmt.Sprintf("p%d", i), uint64(size), crcs[i], uint64(size)); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("0 mismatches; sizes %v; %.1f MiB/s each way", sizes, float64(total)/(1<<20)/secs), nil
}

func checkSource(ctx context.Context, env *checkEnv) (string, error) {
	const n = 8388608
	st, err := env.openRaw(ctx, fmt.Sprintf("source:s1:%d", n))
	if err != nil {
		return "", err
	}
	crc := crc32.NewIEEE()
	if _, err := io.CopyN(crc, st, n); err != nil {
		return "", fmt.Errorf("reading %d bytes: %w", n, err)
	}
	var trailer [4]byte
	if _, err := io.ReadFull(st, trailer[:]); err != nil {
		return "", fmt.Errorf("reading the CRC trailer: %w", err)
	}
	if got := binary.BigEndian.Uint32(trailer[:]); got != crc.Sum32() {
		return "", fmt.Errorf("trailer %08x, data crc %08x", got, crc.Sum32())
	}
	if extra, err := io.Copy(io.Discard, st); err != nil || extra != 0 {
		return "", fmt.Errorf("after the trailer: %d more bytes, %v (want EOF)", extra, err)
	}
	if err := st.Close(); err != nil {
		return "", err
	}
	if err := expectRawResult(ctx, env, "s1", 0, 0, n+4); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d bytes, crc %08x matches trailer, then EOF", n, crc.Sum32()), nil
}

func checkFin(ctx context.Context, env *checkEnv) (string, error) {
	crc, err := echoRoundTrip(ctx, env, "f1", 7, 1<<20)
	if err != nil {
		return "", err
	}
	if err := expectRawResult(ctx, env, "f1", 1<<20, crc, 1<<20); err != nil {
		return "", err
	}
	return "1 MiB written, FIN sent, full echo then EOF read back", nil
}

// checkFinFromServer opens close:c1: the server FINs at once, so our reads end with EOF
// while our writes still flow (half-close), and the server records them.
func checkFinFromServer(ctx context.Context, env *checkEnv) (string, error) {
	st, err := env.openRaw(ctx, "close:c1")
	if err != nil {
		return "", err
	}
	if n, err := io.Copy(io.Discard, st); err != nil || n != 0 {
		return "", fmt.Errorf("read %d bytes, %v; want an immediate FIN (EOF)", n, err)
	}
	crc, err := writeRandom(st, 11, 256<<10)
	if err != nil {
		return "", fmt.Errorf("writing after the server's FIN: %w", err)
	}
	if err := st.Close(); err != nil {
		return "", err
	}
	if err := expectRawResult(ctx, env, "c1", 256<<10, crc, 0); err != nil {
		return "", err
	}
	return "server FIN observed as EOF; 256 KiB still written half-closed and recorded (no id form asks the server for an RST)", nil
}

// readSinkSummary reads a sink's 12-byte summary and the EOF after it.
func readSinkSummary(r io.Reader, wantCount uint64, wantCRC uint32) error {
	var sum [12]byte
	if _, err := io.ReadFull(r, sum[:]); err != nil {
		return fmt.Errorf("reading the sink summary: %w", err)
	}
	count, crc := binary.BigEndian.Uint64(sum[:8]), binary.BigEndian.Uint32(sum[8:])
	if count != wantCount || crc != wantCRC {
		return fmt.Errorf("sink summary %d/%08x, want %d/%08x", count, crc, wantCount, wantCRC)
	}
	if extra, err := io.Copy(io.Discard, r); err != nil || extra != 0 {
		return fmt.Errorf("after the summary: %d more bytes, %v (want EOF)", extra, err)
	}
	return nil
}

func checkHoldRelease(ctx context.Context, env *checkEnv) (string, error) {
	const size = 1 << 20
	st, err := env.openRaw(ctx, "hold:h1")
	if err != nil {
		return "", err
	}
	type writeResult struct {
		crc uint32
		err error
	}
	written := make(chan writeResult, 1)
	go func() {
		crc, err := writeRandom(st, 13, size)
		written <- writeResult{crc, err}
	}()
	if _, err := env.api.Release(ctx, &testpb.ReleaseRequest{Name: "h1"}); err != nil {
		return "", err
	}
	var w writeResult
	select {
	case w = <-written:
	case <-ctx.Done():
		return "", fmt.Errorf("writes never completed after Release: %w", ctx.Err())
	}
	if w.err != nil {
		return "", w.err
	}
	if err := st.Close(); err != nil {
		return "", err
	}
	if err := readSinkSummary(st, size, w.crc); err != nil {
		return "", err
	}
	if err := expectRawResult(ctx, env, "h1", size, w.crc, 12); err != nil {
		return "", err
	}
	_, err = env.api.Release(ctx, &testpb.ReleaseRequest{Name: "no-such-stream"})
	if err := expectStatus(err, codes.NotFound, ""); err != nil {
		return "", fmt.Errorf("Release of an unknown name: %w", err)
	}
	return "1 MiB through a held stream after Release; summary exact; unknown name NOT_FOUND", nil
}

func checkSlowSink(ctx context.Context, env *checkEnv) (string, error) {
	const size, rate = 512 << 10, 1 << 20
	st, err := env.openRaw(ctx, fmt.Sprintf("sink:k1:%d", rate))
	if err != nil {
		return "", err
	}
	start := time.Now()
	crc, err := writeRandom(st, 17, size)
	if err != nil {
		return "", err
	}
	if err := st.Close(); err != nil {
		return "", err
	}
	if err := readSinkSummary(st, size, crc); err != nil {
		return "", err
	}
	took := time.Since(start)
	if err := expectRawResult(ctx, env, "k1", size, crc, 12); err != nil {
		return "", err
	}
	return fmt.Sprintf("512 KiB into a 1 MiB/s sink took %v; summary exact", took.Round(time.Millisecond)), nil
}

// checkRawRefusal checks that a duplicate id and an unknown mode are refused.
func checkRawRefusal(ctx context.Context, env *checkEnv) (string, error) {
	if _, err := env.openRaw(ctx, "echo:dup"); err != nil {
		return "", err
	}
	_, err := env.openRaw(ctx, "echo:dup")
	if err == nil || !strings.Contains(err.Error(), "duplicate stream id") {
		return "", fmt.Errorf("second echo:dup: got %v, want refusal \"duplicate stream id\"", err)
	}
	_, err = env.openRaw(ctx, "bogus:x")
	if err == nil || !strings.Contains(err.Error(), "unknown stream mode") {
		return "", fmt.Errorf("bogus:x: got %v, want refusal \"unknown stream mode\"", err)
	}
	return "duplicate id and unknown mode refused", nil
}
