package testpeer

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/containerd/ttrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// Hand-encoded ttrpc frames, for checks that need what the ttrpc client will not send.
const (
	frameHeaderLen     = 10
	frameTypeRequest   = 1
	frameTypeResponse  = 2
	interopServiceName = "vessel.test.v1.InteropTest"
)

type frameHeader struct {
	Length   uint32
	StreamID uint32
	Type     uint8
	Flags    uint8
}

func encodeFrameHeader(h frameHeader) []byte {
	b := make([]byte, frameHeaderLen)
	binary.BigEndian.PutUint32(b[0:4], h.Length)
	binary.BigEndian.PutUint32(b[4:8], h.StreamID)
	b[8] = h.Type
	b[9] = h.Flags
	return b
}

// encodeRequestFrame builds a whole request frame calling method with msg on streamID.
func encodeRequestFrame(streamID uint32, method string, msg proto.Message) ([]byte, error) {
	payload, err := proto.Marshal(msg)
	if err != nil {
		return nil, err
	}
	body, err := proto.Marshal(&ttrpc.Request{Service: interopServiceName, Method: method, Payload: payload})
	if err != nil {
		return nil, err
	}
	frame := encodeFrameHeader(frameHeader{Length: uint32(len(body)), StreamID: streamID, Type: frameTypeRequest})
	return append(frame, body...), nil
}

// readFrame reads one frame, refusing one whose payload exceeds maxLen.
func readFrame(r io.Reader, maxLen uint32) (frameHeader, []byte, error) {
	var hb [frameHeaderLen]byte
	if _, err := io.ReadFull(r, hb[:]); err != nil {
		return frameHeader{}, nil, err
	}
	h := frameHeader{
		Length:   binary.BigEndian.Uint32(hb[0:4]),
		StreamID: binary.BigEndian.Uint32(hb[4:8]),
		Type:     hb[8],
		Flags:    hb[9],
	}
	if h.Length > maxLen {
		return h, nil, fmt.Errorf("frame payload of %d bytes exceeds %d", h.Length, maxLen)
	}
	body := make([]byte, h.Length)
	if _, err := io.ReadFull(r, body); err != nil {
		return h, nil, err
	}
	return h, body, nil
}

// readResponse reads one frame and decodes it as a ttrpc Response on wantStream.
func readResponse(r io.Reader, wantStream uint32) (codes.Code, string, []byte, error) {
	h, body, err := readFrame(r, ttrpcMaxMessage)
	if err != nil {
		return 0, "", nil, err
	}
	if h.Type != frameTypeResponse || h.StreamID != wantStream {
		return 0, "", nil, fmt.Errorf("got frame type %d on stream %d, want a response on stream %d", h.Type, h.StreamID, wantStream)
	}
	var resp ttrpc.Response
	if err := proto.Unmarshal(body, &resp); err != nil {
		return 0, "", nil, fmt.Errorf("decode response: %w", err)
	}
	if resp.Status == nil {
		return codes.OK, "", resp.Payload, nil
	}
	return codes.Code(uint32(resp.Status.Code)), resp.Status.Message, resp.Payload, nil
}
