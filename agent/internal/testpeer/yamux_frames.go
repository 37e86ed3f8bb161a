package testpeer

import "encoding/binary"

// yamux framing, as far as the frame followers need it.
const (
	yamuxHeaderLen  = 12
	yamuxTypeData   = 0
	yamuxTypeGoAway = 3
	yamuxFlagRST    = 0x8
)

// yamuxHeader is one 12-byte yamux frame header.
type yamuxHeader [yamuxHeaderLen]byte

func (h yamuxHeader) Type() uint8      { return h[1] }
func (h yamuxHeader) Flags() uint16    { return binary.BigEndian.Uint16(h[2:4]) }
func (h yamuxHeader) StreamID() uint32 { return binary.BigEndian.Uint32(h[4:8]) }
func (h yamuxHeader) Length() uint32   { return binary.BigEndian.Uint32(h[8:12]) }

// yamuxFrameFollower tracks frame boundaries in one direction of a yamux byte stream
// and reports every header it completes. Not safe for concurrent use.
type yamuxFrameFollower struct {
	hdr      yamuxHeader
	hdrFill  int
	skip     uint32 // data frame body bytes still to pass
	onHeader func(yamuxHeader)
}

// follow advances over bytes that just went by.
func (f *yamuxFrameFollower) follow(p []byte) {
	for len(p) > 0 {
		if f.skip > 0 {
			k := uint32(len(p))
			if k > f.skip {
				k = f.skip
			}
			f.skip -= k
			p = p[k:]
			continue
		}
		k := copy(f.hdr[f.hdrFill:], p)
		f.hdrFill += k
		p = p[k:]
		if f.hdrFill < yamuxHeaderLen {
			return
		}
		f.hdrFill = 0
		if f.hdr.Type() == yamuxTypeData {
			f.skip = f.hdr.Length()
		}
		f.onHeader(f.hdr)
	}
}
