package testpeer

import (
	"context"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// maxRawNames bounds how many names (claimed streams plus names waited on) one session tracks.
const maxRawNames = 4096

// rawOutcome is what a raw stream did, reported by RawResult.
type rawOutcome struct {
	BytesRead    uint64
	CRC32        uint32
	BytesWritten uint64
	End          string // "eof" | "reset" | "error"
	Err          string
}

type rawEntry struct {
	claimed bool
	hold    bool
	done    chan struct{} // closed once outcome is set
	outcome rawOutcome

	released    chan struct{} // hold streams: closed by Release
	releaseOnce sync.Once
}

// rawRegistry records the raw streams of one session by NAME.
type rawRegistry struct {
	mu      sync.Mutex
	entries map[string]*rawEntry
}

func newRawRegistry() *rawRegistry {
	return &rawRegistry{entries: make(map[string]*rawEntry)}
}

var errDuplicateStream = status.Error(codes.AlreadyExists, "duplicate stream id")

// entryLocked returns the entry for name, creating an unclaimed one if needed.
func (r *rawRegistry) entryLocked(name string) (*rawEntry, error) {
	if e, ok := r.entries[name]; ok {
		return e, nil
	}
	if len(r.entries) >= maxRawNames {
		return nil, status.Errorf(codes.ResourceExhausted, "more than %d raw stream names", maxRawNames)
	}
	e := &rawEntry{done: make(chan struct{}), released: make(chan struct{})}
	r.entries[name] = e
	return e, nil
}

// claim registers a new stream under name. A name can be claimed once per session.
func (r *rawRegistry) claim(name string, hold bool) (*rawEntry, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, err := r.entryLocked(name)
	if err != nil {
		return nil, err
	}
	if e.claimed {
		return nil, errDuplicateStream
	}
	e.claimed = true
	e.hold = hold
	return e, nil
}

// finish records the outcome of a claimed stream and wakes its waiters. Only the first call counts.
func (e *rawEntry) finish(o rawOutcome) {
	select {
	case <-e.done:
	default:
		e.outcome = o
		close(e.done)
	}
}

// wait blocks until the stream named name has ended or ctx ends.
func (r *rawRegistry) wait(ctx context.Context, name string) (rawOutcome, error) {
	r.mu.Lock()
	e, err := r.entryLocked(name)
	r.mu.Unlock()
	if err != nil {
		return rawOutcome{}, err
	}
	select {
	case <-e.done:
		return e.outcome, nil
	case <-ctx.Done():
		return rawOutcome{}, status.FromContextError(ctx.Err()).Err()
	}
}

// release lets a hold stream start reading.
func (r *rawRegistry) release(name string) error {
	r.mu.Lock()
	e, ok := r.entries[name]
	r.mu.Unlock()
	if !ok || !e.claimed {
		return status.Errorf(codes.NotFound, "no raw stream named %q", name)
	}
	if !e.hold {
		return status.Errorf(codes.FailedPrecondition, "raw stream %q is not a hold stream", name)
	}
	e.releaseOnce.Do(func() { close(e.released) })
	return nil
}
