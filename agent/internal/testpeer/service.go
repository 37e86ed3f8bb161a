package testpeer

import (
	"context"
	"errors"
	"hash/crc32"
	"io"
	"sort"
	"time"

	"github.com/containerd/ttrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"vessel.dev/agent/internal/testpb"
)

// ttrpcMaxMessage is ttrpc's frame payload limit (4 MiB).
const ttrpcMaxMessage = 4 << 20

// interopService implements testpb.InteropTestService for one yamux session
// (or, in ttrpc-only mode, for the whole server).
type interopService struct {
	raw *rawRegistry
}

var _ testpb.InteropTestService = (*interopService)(nil)

func failStatus(code int32, msg string) error {
	return status.Error(codes.Code(uint32(code)), msg)
}

// sleepCtx waits d or until ctx ends, returning the ctx error as a status.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	}
}

func (s *interopService) Echo(ctx context.Context, req *testpb.EchoRequest) (*testpb.EchoResponse, error) {
	if err := sleepCtx(ctx, time.Duration(req.SleepMs)*time.Millisecond); err != nil {
		return nil, err
	}
	if req.FailCode != 0 {
		return nil, failStatus(req.FailCode, req.FailMessage)
	}
	if req.ResponseSize > ttrpcMaxMessage {
		return nil, status.Errorf(codes.ResourceExhausted, "response_size %d exceeds the ttrpc message limit of %d", req.ResponseSize, ttrpcMaxMessage)
	}
	resp := &testpb.EchoResponse{Payload: req.Payload, Message: req.Message, Metadata: sortedMetadata(ctx)}
	if req.ResponseSize > 0 {
		resp.Payload = patternBytes(0, int(req.ResponseSize))
	}
	// ttrpc.Server would drop the whole connection on an oversized response frame;
	// answer RESOURCE_EXHAUSTED on this call instead.
	// The frame carries ttrpc.Response{payload = 2: resp}.
	if outer := protowire.SizeTag(2) + protowire.SizeBytes(proto.Size(resp)); outer > ttrpcMaxMessage {
		return nil, status.Errorf(codes.ResourceExhausted, "response of %d bytes exceeds the ttrpc message limit of %d", outer, ttrpcMaxMessage)
	}
	return resp, nil
}

// sortedMetadata lists the request metadata sorted by key, then value.
func sortedMetadata(ctx context.Context) []*testpb.KeyValue {
	md, ok := ttrpc.GetMetadata(ctx)
	if !ok {
		return nil
	}
	var kvs []*testpb.KeyValue
	for k, vs := range md {
		for _, v := range vs {
			kvs = append(kvs, &testpb.KeyValue{Key: k, Value: v})
		}
	}
	sort.Slice(kvs, func(i, j int) bool {
		if kvs[i].Key != kvs[j].Key {
			return kvs[i].Key < kvs[j].Key
		}
		return kvs[i].Value < kvs[j].Value
	})
	return kvs
}

func (s *interopService) ServerStream(ctx context.Context, req *testpb.StreamRequest, stream testpb.InteropTest_ServerStreamServer) error {
	if req.Size > ttrpcMaxMessage {
		return status.Errorf(codes.ResourceExhausted, "size %d exceeds the ttrpc message limit of %d", req.Size, ttrpcMaxMessage)
	}
	for i := uint32(0); i < req.Count; i++ {
		if i > 0 {
			if err := sleepCtx(ctx, time.Duration(req.IntervalMs)*time.Millisecond); err != nil {
				return err
			}
		}
		if err := ctx.Err(); err != nil {
			return status.FromContextError(err).Err()
		}
		if err := stream.Send(&testpb.EchoResponse{Seq: i, Payload: patternBytes(i, int(req.Size))}); err != nil {
			return err
		}
	}
	if req.FailCode != 0 {
		return failStatus(req.FailCode, req.FailMessage)
	}
	return nil
}

func (s *interopService) ClientStream(ctx context.Context, stream testpb.InteropTest_ClientStreamServer) (*testpb.StreamSummary, error) {
	sum := &testpb.StreamSummary{}
	crc := crc32.NewIEEE()
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			sum.Crc32 = crc.Sum32()
			return sum, nil
		}
		if err != nil {
			return nil, err
		}
		if req.FailCode != 0 {
			return nil, failStatus(req.FailCode, req.FailMessage)
		}
		sum.Count++
		sum.Bytes += uint64(len(req.Payload))
		_, _ = crc.Write(req.Payload)
	}
}

func (s *interopService) BidiStream(ctx context.Context, stream testpb.InteropTest_BidiStreamServer) error {
	for seq := uint32(0); ; seq++ {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if req.FailCode != 0 {
			return failStatus(req.FailCode, req.FailMessage)
		}
		if err := stream.Send(&testpb.EchoResponse{Payload: req.Payload, Message: req.Message, Seq: seq}); err != nil {
			return err
		}
	}
}

func (s *interopService) RawResult(ctx context.Context, req *testpb.RawResultRequest) (*testpb.RawResultResponse, error) {
	o, err := s.raw.wait(ctx, req.Name)
	if err != nil {
		return nil, err
	}
	return &testpb.RawResultResponse{BytesRead: o.BytesRead, Crc32: o.CRC32, BytesWritten: o.BytesWritten, End: o.End, Error: o.Err}, nil
}

func (s *interopService) Release(ctx context.Context, req *testpb.ReleaseRequest) (*testpb.ReleaseResponse, error) {
	if err := s.raw.release(req.Name); err != nil {
		return nil, err
	}
	return &testpb.ReleaseResponse{}, nil
}
