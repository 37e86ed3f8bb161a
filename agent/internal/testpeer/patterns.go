package testpeer

import (
	"hash/fnv"
	"math/rand"
)

// patternByte is the deterministic payload byte used by Echo.response_size (offset 0)
// and ServerStream (offset = seq): byte i = (offset + i) % 251.
func patternBytes(offset uint32, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((uint64(offset) + uint64(i)) % 251)
	}
	return b
}

// nameSeed seeds math/rand from a raw stream NAME (FNV-1a 64).
func nameSeed(name string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(name))
	return int64(h.Sum64())
}

// randomBytes returns n bytes from rng.
func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	_, _ = rng.Read(b)
	return b
}
