package testpeer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand"
	"sync"
	"time"

	"github.com/containerd/ttrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"vessel.dev/agent/internal/testpb"
)

// expectStatus checks that err carries exactly code and (unless msg is "") message.
func expectStatus(err error, code codes.Code, msg string) error {
	if err == nil {
		return fmt.Errorf("got success, want %v", code)
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("got non-status error %v, want %v", err, code)
	}
	if st.Code() != code || (msg != "" && st.Message() != msg) {
		return fmt.Errorf("got %v %q, want %v %q", st.Code(), st.Message(), code, msg)
	}
	return nil
}

// expectEcho checks an Echo response against the request it answers.
func expectEcho(resp *testpb.EchoResponse, payload []byte, message string, seq uint32) error {
	if !bytes.Equal(resp.Payload, payload) {
		return fmt.Errorf("seq %d: payload mismatch (got %d bytes, want %d)", seq, len(resp.Payload), len(payload))
	}
	if resp.Message != message || resp.Seq != seq {
		return fmt.Errorf("got message %q seq %d, want %q seq %d", resp.Message, resp.Seq, message, seq)
	}
	return nil
}

func checkUnary(ctx context.Context, env *checkEnv) (string, error) {
	payload := randomBytes(rand.New(rand.NewSource(1)), 1024)
	resp, err := env.api.Echo(ctx, &testpb.EchoRequest{Payload: payload, Message: "hello"})
	if err != nil {
		return "", err
	}
	if err := expectEcho(resp, payload, "hello", 0); err != nil {
		return "", err
	}
	if len(resp.Metadata) != 0 {
		return "", fmt.Errorf("got metadata %v, sent none", resp.Metadata)
	}
	return "1024-byte payload and message echoed", nil
}

func checkMetadata(ctx context.Context, env *checkEnv) (string, error) {
	md := ttrpc.MD{}
	md.Set("x-single", "one")
	md.Append("x-multi", "v2", "v1")
	resp, err := env.api.Echo(ttrpc.WithMetadata(ctx, md), &testpb.EchoRequest{Message: "md"})
	if err != nil {
		return "", err
	}
	want := [][2]string{{"x-multi", "v1"}, {"x-multi", "v2"}, {"x-single", "one"}}
	got := make([][2]string, 0, len(resp.Metadata))
	for _, kv := range resp.Metadata {
		got = append(got, [2]string{kv.Key, kv.Value})
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		return "", fmt.Errorf("echoed metadata %v, want %v", got, want)
	}
	return fmt.Sprintf("metadata echoed sorted: %v", got), nil
}

// recvPattern receives count ServerStream responses and checks seq and payload bytes.
func recvPattern(stream testpb.InteropTest_ServerStreamClient, count, size uint32) error {
	for i := uint32(0); i < count; i++ {
		resp, err := stream.Recv()
		if err != nil {
			return fmt.Errorf("recv %d: %w", i, err)
		}
		if resp.Seq != i || !bytes.Equal(resp.Payload, patternBytes(i, int(size))) {
			return fmt.Errorf("message %d: seq %d, payload %d bytes not the expected pattern", i, resp.Seq, len(resp.Payload))
		}
	}
	return nil
}

func checkServerStream(ctx context.Context, env *checkEnv) (string, error) {
	stream, err := env.api.ServerStream(ctx, &testpb.StreamRequest{Count: 100, Size: 1000})
	if err != nil {
		return "", err
	}
	if err := recvPattern(stream, 100, 1000); err != nil {
		return "", err
	}
	if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("after 100 messages: got %v, want EOF", err)
	}

	stream, err = env.api.ServerStream(ctx, &testpb.StreamRequest{Count: 3, Size: 10, FailCode: int32(codes.FailedPrecondition), FailMessage: "after three"})
	if err != nil {
		return "", err
	}
	if err := recvPattern(stream, 3, 10); err != nil {
		return "", fmt.Errorf("fail variant: %w", err)
	}
	if err := expectStatus(recvErr(stream), codes.FailedPrecondition, "after three"); err != nil {
		return "", fmt.Errorf("fail variant: %w", err)
	}
	return "100x1000 bytes exact then EOF; fail variant: 3 messages then FAILED_PRECONDITION", nil
}

func recvErr(stream testpb.InteropTest_ServerStreamClient) error {
	_, err := stream.Recv()
	return err
}

func checkClientStream(ctx context.Context, env *checkEnv) (string, error) {
	rng := rand.New(rand.NewSource(2))
	stream, err := env.api.ClientStream(ctx)
	if err != nil {
		return "", err
	}
	crc := crc32.NewIEEE()
	var total uint64
	for i := 0; i < 100; i++ {
		p := randomBytes(rng, rng.Intn(4097))
		_, _ = crc.Write(p)
		total += uint64(len(p))
		if err := stream.Send(&testpb.EchoRequest{Payload: p}); err != nil {
			return "", fmt.Errorf("send %d: %w", i, err)
		}
	}
	sum, err := stream.CloseAndRecv()
	if err != nil {
		return "", err
	}
	if sum.Count != 100 || sum.Bytes != total || sum.Crc32 != crc.Sum32() {
		return "", fmt.Errorf("summary %d/%d/%08x, want 100/%d/%08x", sum.Count, sum.Bytes, sum.Crc32, total, crc.Sum32())
	}

	stream, err = env.api.ClientStream(ctx)
	if err != nil {
		return "", err
	}
	for i := 0; i < 3; i++ {
		req := &testpb.EchoRequest{Payload: []byte{byte(i)}}
		if i == 2 {
			req.FailCode, req.FailMessage = int32(codes.Aborted), "third fails"
		}
		if err := stream.Send(req); err != nil {
			return "", fmt.Errorf("fail variant send %d: %w", i, err)
		}
	}
	_, err = stream.CloseAndRecv()
	if err := expectStatus(err, codes.Aborted, "third fails"); err != nil {
		return "", fmt.Errorf("fail variant: %w", err)
	}
	return fmt.Sprintf("100 messages, %d bytes, crc %08x; fail variant ABORTED", total, crc.Sum32()), nil
}

func checkBidiStream(ctx context.Context, env *checkEnv) (string, error) {
	rng := rand.New(rand.NewSource(3))
	stream, err := env.api.BidiStream(ctx)
	if err != nil {
		return "", err
	}
	for i := uint32(0); i < 100; i++ {
		p := randomBytes(rng, rng.Intn(2048))
		msg := fmt.Sprintf("m%d", i)
		if err := stream.Send(&testpb.EchoRequest{Payload: p, Message: msg}); err != nil {
			return "", fmt.Errorf("send %d: %w", i, err)
		}
		resp, err := stream.Recv()
		if err != nil {
			return "", fmt.Errorf("recv %d: %w", i, err)
		}
		if err := expectEcho(resp, p, msg, i); err != nil {
			return "", err
		}
	}
	if err := stream.CloseSend(); err != nil {
		return "", err
	}
	if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("after CloseSend: got %v, want EOF", err)
	}
	return "100 round trips exact, then EOF", nil
}

func checkConcurrent64(ctx context.Context, env *checkEnv) (string, error) {
	errs := make([]error, 64)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := []byte(fmt.Sprintf("call-%02d-%s", i, bytes.Repeat([]byte{byte('a' + i%26)}, i*97)))
			msg := fmt.Sprintf("c%d", i)
			resp, err := env.api.Echo(ctx, &testpb.EchoRequest{Payload: p, Message: msg, SleepMs: int64(i % 5)})
			if err == nil {
				err = expectEcho(resp, p, msg, 0)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	return "64 concurrent calls matched", nil
}

func checkDeadline(ctx context.Context, env *checkEnv) (string, error) {
	// Client-side deadline: the call must give up after ~200 ms.
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	_, err := env.api.Echo(cctx, &testpb.EchoRequest{SleepMs: 5000})
	cancel()
	took := time.Since(start)
	if status.Code(err) != codes.DeadlineExceeded && !errors.Is(err, context.DeadlineExceeded) {
		return "", fmt.Errorf("got %v, want DEADLINE_EXCEEDED", err)
	}
	if took > 2*time.Second {
		return "", fmt.Errorf("returned after %v", took)
	}

	// Server-side deadline: send timeout_nano = 200 ms but let the client wait up to
	// 4 s, so DEADLINE_EXCEEDED must come from the server honouring timeout_nano.
	conn, err := env.ttrpcConn(ctx, "deadline")
	if err != nil {
		return "", err
	}
	guard, cancelGuard := context.WithTimeout(context.WithoutCancel(ctx), 4*time.Second)
	defer cancelGuard()
	patient := ttrpc.NewClient(conn, ttrpc.WithUnaryClientInterceptor(
		func(_ context.Context, req *ttrpc.Request, resp *ttrpc.Response, _ *ttrpc.UnaryClientInfo, invoke ttrpc.Invoker) error {
			return invoke(guard, req, resp)
		}))
	defer patient.Close()
	start = time.Now()
	cctx, cancel = context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, err = testpb.NewInteropTestClient(patient).Echo(cctx, &testpb.EchoRequest{SleepMs: 5000})
	serverTook := time.Since(start)
	if err := expectStatus(err, codes.DeadlineExceeded, ""); err != nil {
		return "", fmt.Errorf("server-side deadline: %w", err)
	}
	if serverTook > 3*time.Second {
		return "", fmt.Errorf("server-side deadline answered after %v", serverTook)
	}
	return fmt.Sprintf("client gave up after %v; server answered DEADLINE_EXCEEDED itself after %v", took.Round(time.Millisecond), serverTook.Round(time.Millisecond)), nil
}
