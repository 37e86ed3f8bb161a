package testpeer

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"vessel.dev/agent/internal/testpb"
)

const fiveMiB = 5 << 20

func checkHandlerError(ctx context.Context, env *checkEnv) (string, error) {
	_, err := env.api.Echo(ctx, &testpb.EchoRequest{FailCode: int32(codes.NotFound), FailMessage: "no such thing"})
	if err := expectStatus(err, codes.NotFound, "no such thing"); err != nil {
		return "", err
	}
	return "NOT_FOUND \"no such thing\"", nil
}

// echoOnStream sends a hand-encoded Echo on streamID and checks the answer.
func echoOnStream(conn net.Conn, streamID uint32) error {
	payload := []byte(fmt.Sprintf("still alive on %d", streamID))
	frame, err := encodeRequestFrame(streamID, "Echo", &testpb.EchoRequest{Payload: payload, Message: "after"})
	if err != nil {
		return err
	}
	if _, err := conn.Write(frame); err != nil {
		return err
	}
	code, msg, body, err := readResponse(conn, streamID)
	if err != nil {
		return err
	}
	if code != codes.OK {
		return fmt.Errorf("stream %d: %v %q", streamID, code, msg)
	}
	var resp testpb.EchoResponse
	if err := proto.Unmarshal(body, &resp); err != nil {
		return err
	}
	return expectEcho(&resp, payload, "after", 0)
}

func checkOversizeResponse(ctx context.Context, env *checkEnv) (string, error) {
	_, err := env.api.Echo(ctx, &testpb.EchoRequest{ResponseSize: fiveMiB})
	if err := expectStatus(err, codes.ResourceExhausted, ""); err != nil {
		return "", err
	}
	if _, err := env.api.Echo(ctx, &testpb.EchoRequest{Message: "after"}); err != nil {
		return "", fmt.Errorf("control connection unusable after the oversize response: %w", err)
	}

	// On the wire: the server must not send a frame over 4 MiB (readResponse refuses one).
	conn, err := env.ttrpcConn(ctx, "oversize-response")
	if err != nil {
		return "", err
	}
	frame, err := encodeRequestFrame(1, "Echo", &testpb.EchoRequest{ResponseSize: fiveMiB})
	if err != nil {
		return "", err
	}
	if _, err := conn.Write(frame); err != nil {
		return "", err
	}
	code, msg, _, err := readResponse(conn, 1)
	if err != nil {
		return "", fmt.Errorf("hand-read response: %w", err)
	}
	if code != codes.ResourceExhausted {
		return "", fmt.Errorf("hand-read response: %v %q, want RESOURCE_EXHAUSTED", code, msg)
	}
	if err := echoOnStream(conn, 3); err != nil {
		return "", fmt.Errorf("after oversize response: %w", err)
	}
	return fmt.Sprintf("RESOURCE_EXHAUSTED (%q) in a frame within 4 MiB; connection still serves", msg), nil
}

func checkOversizeRequest(ctx context.Context, env *checkEnv) (string, error) {
	conn, err := env.ttrpcConn(ctx, "oversize")
	if err != nil {
		return "", err
	}
	frame, err := encodeRequestFrame(1, "Echo", &testpb.EchoRequest{Payload: bytes.Repeat([]byte{0x5a}, fiveMiB)})
	if err != nil {
		return "", err
	}
	declared := len(frame) - frameHeaderLen
	written := make(chan error, 1)
	go func() {
		_, err := conn.Write(frame)
		written <- err
	}()
	code, msg, _, err := readResponse(conn, 1)
	if err != nil {
		return "", fmt.Errorf("response to the %d-byte request: %w", declared, err)
	}
	if code != codes.ResourceExhausted {
		return "", fmt.Errorf("got %v %q, want RESOURCE_EXHAUSTED", code, msg)
	}
	select {
	case err := <-written:
		if err != nil {
			return "", fmt.Errorf("writing the oversize body: %w", err)
		}
	case <-ctx.Done():
		return "", fmt.Errorf("server stopped reading the oversize body: %w", ctx.Err())
	}
	if err := echoOnStream(conn, 3); err != nil {
		return "", fmt.Errorf("after the oversize request: %w", err)
	}
	return fmt.Sprintf("%d-byte request on stream 1 -> RESOURCE_EXHAUSTED (%q); Echo on stream 3 ok", declared, msg), nil
}

func checkEvenID(ctx context.Context, env *checkEnv) (string, error) {
	conn, err := env.ttrpcConn(ctx, "even")
	if err != nil {
		return "", err
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	frame, err := encodeRequestFrame(2, "Echo", &testpb.EchoRequest{Message: "even"})
	if err != nil {
		return "", err
	}
	if _, err := conn.Write(frame); err != nil {
		return "", err
	}
	code, msg, _, err := readResponse(conn, 2)
	if err != nil {
		return "", err
	}
	if code != codes.InvalidArgument {
		return "", fmt.Errorf("got %v %q, want INVALID_ARGUMENT", code, msg)
	}
	if err := echoOnStream(conn, 1); err != nil {
		return "", fmt.Errorf("after the even id: %w", err)
	}
	// Go's ttrpc server answers an even id with INVALID_ARGUMENT "StreamID must be odd for
	// client initiated streams" on that id, keeps the connection and does not count the id.
	return fmt.Sprintf("stream 2 -> INVALID_ARGUMENT (%q), as Go's ttrpc server does; stream 1 still served", msg), nil
}
