package testpeer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hashicorp/yamux"

	"vessel.dev/agent/internal/testpb"
)

const awaitGoAwayLimit = 10 * time.Second

// echoOnce round-trips payload on an open echo stream (without FIN).
func echoOnce(st *yamux.Stream, payload []byte) error {
	if _, err := st.Write(payload); err != nil {
		return err
	}
	got := make([]byte, len(payload))
	if _, err := io.ReadFull(st, got); err != nil {
		return err
	}
	if string(got) != string(payload) {
		return errors.New("echo mismatch")
	}
	return nil
}

// finishEcho FINs an echo stream and expects the server's FIN back.
func finishEcho(st *yamux.Stream) error {
	if err := st.Close(); err != nil {
		return err
	}
	var b [1]byte
	if n, err := st.Read(b[:]); n != 0 || err == nil {
		return fmt.Errorf("after FIN: read %d bytes, err %v; want EOF", n, err)
	}
	return nil
}

// checkLocalGoAway sends our GoAway; the server's existing streams and control plane
// must keep working.
func checkLocalGoAway(ctx context.Context, env *checkEnv) (string, error) {
	st, err := env.openRaw(ctx, "echo:lg1")
	if err != nil {
		return "", err
	}
	if err := env.sess.GoAway(); err != nil {
		return "", err
	}
	if err := echoOnce(st, []byte("after our goaway")); err != nil {
		return "", fmt.Errorf("open stream after our GoAway: %w", err)
	}
	if err := finishEcho(st); err != nil {
		return "", err
	}
	if _, err := env.api.Echo(ctx, &testpb.EchoRequest{Message: "after goaway"}); err != nil {
		return "", fmt.Errorf("control plane after our GoAway: %w", err)
	}
	return "GoAway sent; open echo stream and control plane still work", nil
}

// checkAwaitGoAway opens echo:g1, then goaway:g2 (the server sends GoAway when it claims
// it) and waits for the server's GoAway: afterwards OpenStream must fail with
// ErrRemoteGoAway while echo:g1 and goaway:g2 still echo.
func checkAwaitGoAway(ctx context.Context, env *checkEnv) (string, error) {
	st, err := env.openRaw(ctx, "echo:g1")
	if err != nil {
		return "", err
	}
	if err := echoOnce(st, []byte("before goaway")); err != nil {
		return "", err
	}
	start := time.Now()
	last, err := env.openRaw(ctx, "goaway:g2")
	if err != nil {
		return "", err
	}
	limit := env.opts.GoAwayWait
	if limit <= 0 {
		limit = awaitGoAwayLimit
	}
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case <-env.gone.Seen():
	case <-timer.C:
		return "", fmt.Errorf("no GoAway from the server within %v", limit)
	case <-ctx.Done():
		return "", ctx.Err()
	}
	waited := time.Since(start)
	if extra, err := env.sess.OpenStream(); !errors.Is(err, yamux.ErrRemoteGoAway) {
		if extra != nil {
			_ = extra.Close()
		}
		return "", fmt.Errorf("OpenStream after the server's GoAway: got %v, want ErrRemoteGoAway", err)
	}
	if err := echoOnce(st, []byte("after goaway")); err != nil {
		return "", fmt.Errorf("echo:g1 after GoAway: %w", err)
	}
	if err := finishEcho(st); err != nil {
		return "", err
	}
	if err := echoOnce(last, []byte("goaway stream after goaway")); err != nil {
		return "", fmt.Errorf("goaway:g2 after GoAway: %w", err)
	}
	if err := finishEcho(last); err != nil {
		return "", err
	}
	return fmt.Sprintf("GoAway after %v; OpenStream -> ErrRemoteGoAway; echo:g1 still echoes", waited.Round(time.Millisecond)), nil
}
