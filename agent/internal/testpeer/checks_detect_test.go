package testpeer

import (
	"context"
	"time"

	"testing"

	"vessel.dev/agent/internal/testpb"
)

// wrongService answers like interopService except where a test overrides one behaviour.
type wrongService struct {
	*interopService
	echo         func(context.Context, *testpb.EchoRequest) (*testpb.EchoResponse, error)
	serverStream func(*testpb.StreamRequest, testpb.InteropTest_ServerStreamServer) error
	clientStream func(context.Context, testpb.InteropTest_ClientStreamServer) (*testpb.StreamSummary, error)
	bidi         func(testpb.InteropTest_BidiStreamServer) error
}

func (w *wrongService) Echo(ctx context.Context, req *testpb.EchoRequest) (*testpb.EchoResponse, error) {
	if w.echo != nil {
		return w.echo(ctx, req)
	}
	return w.interopService.Echo(ctx, req)
}

func (w *wrongService) ServerStream(ctx context.Context, req *testpb.StreamRequest, s testpb.InteropTest_ServerStreamServer) error {
	if w.serverStream != nil {
		return w.serverStream(req, s)
	}
	return w.interopService.ServerStream(ctx, req, s)
}

func (w *wrongService) ClientStream(ctx context.Context, s testpb.InteropTest_ClientStreamServer) (*testpb.StreamSummary, error) {
	if w.clientStream != nil {
		return w.clientStream(ctx, s)
	}
	return w.interopService.ClientStream(ctx, s)
}

func (w *wrongService) BidiStream(ctx context.Context, s testpb.InteropTest_BidiStreamServer) error {
	if w.bidi != nil {
		return w.bidi(s)
	}
	return w.interopService.BidiStream(ctx, s)
}

// TestChecksDetectWrongServers proves each check can fail: against a server that gets
// one thing wrong, the check that covers it reports ok=false.
func TestChecksDetectWrongServers(t *testing.T) {
	right := &interopService{raw: newRawRegistry()}
	cases := []struct {
		check string
		wrong func(w *wrongService)
	}{
		{"unary", func(w *wrongService) {
			w.echo = func(ctx context.Context, req *testpb.EchoRequest) (*testpb.EchoResponse, error) {
				resp, err := right.Echo(ctx, req)
				if err == nil && len(resp.Payload) > 0 {
					resp.Payload = append([]byte{}, resp.Payload...)
					resp.Payload[len(resp.Payload)-1] ^= 1
				}
				return resp, err
			}
		}},
		{"concurrent64", func(w *wrongService) {
			w.echo = func(ctx context.Context, req *testpb.EchoRequest) (*testpb.EchoResponse, error) {
				resp, err := right.Echo(ctx, req)
				if err == nil && req.Message == "c42" {
					resp.Message = "c41"
				}
				return resp, err
			}
		}},
		{"metadata", func(w *wrongService) {
			w.echo = func(ctx context.Context, req *testpb.EchoRequest) (*testpb.EchoResponse, error) {
				resp, err := right.Echo(ctx, req)
				if err == nil && len(resp.Metadata) > 1 {
					resp.Metadata[0], resp.Metadata[1] = resp.Metadata[1], resp.Metadata[0]
				}
				return resp, err
			}
		}},
		{"handler-error", func(w *wrongService) {
			w.echo = func(ctx context.Context, req *testpb.EchoRequest) (*testpb.EchoResponse, error) {
				req.FailMessage += "!"
				return right.Echo(ctx, req)
			}
		}},
		{"deadline", func(w *wrongService) {
			w.echo = func(ctx context.Context, req *testpb.EchoRequest) (*testpb.EchoResponse, error) {
				time.Sleep(time.Duration(req.SleepMs) * time.Millisecond) // ignores the deadline
				return &testpb.EchoResponse{}, nil
			}
		}},
		{"server-stream", func(w *wrongService) {
			w.serverStream = func(req *testpb.StreamRequest, s testpb.InteropTest_ServerStreamServer) error {
				for i := uint32(0); i < req.Count; i++ {
					if err := s.Send(&testpb.EchoResponse{Seq: i, Payload: patternBytes(0, int(req.Size))}); err != nil {
						return err
					}
				}
				return nil
			}
		}},
		{"client-stream", func(w *wrongService) {
			w.clientStream = func(ctx context.Context, s testpb.InteropTest_ClientStreamServer) (*testpb.StreamSummary, error) {
				sum, err := right.ClientStream(ctx, s)
				if err == nil {
					sum.Crc32++
				}
				return sum, err
			}
		}},
		{"bidi-stream", func(w *wrongService) {
			w.bidi = func(s testpb.InteropTest_BidiStreamServer) error {
				for seq := uint32(1); ; seq++ {
					req, err := s.Recv()
					if err != nil {
						return nil
					}
					if err := s.Send(&testpb.EchoResponse{Payload: req.Payload, Message: req.Message, Seq: seq}); err != nil {
						return err
					}
				}
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.check, func(t *testing.T) {
			path := startServer(t, ServerOptions{newService: func(reg *rawRegistry) testpb.InteropTestService {
				w := &wrongService{interopService: &interopService{raw: reg}}
				tc.wrong(w)
				return w
			}})
			ok, results := runChecks(t, path, false, []string{tc.check})
			if ok || results[0].OK {
				t.Fatalf("check passed against a wrong server: %+v", results[0])
			}
			t.Logf("failed as it should: %s", results[0].Detail)
		})
	}
}
