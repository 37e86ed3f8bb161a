// Package restore makes a guest restored from a snapshot a machine of its own
// (agent.proto AfterRestore): the host's entropy is added to the kernel's pool and
// credited, and the CRNG reseeded, so every copy's random numbers differ from then on; the
// realtime clock is stepped to the host's time (the saved guest's clock stood still while
// the snapshot waited); the hostname is set. The kernel calls are behind Sys (tests fake it).
package restore

import (
	"errors"
	"fmt"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Entropy bounds (agent.proto AfterRestoreRequest).
const (
	MinEntropy = 32
	MaxEntropy = 512
)

// ErrInvalid marks a request the agent refuses (INVALID_ARGUMENT).
var ErrInvalid = errors.New("invalid AfterRestore request")

// Sys is what Apply changes in the guest.
type Sys interface {
	// AddEntropy mixes b into the input pool crediting its bits, then reseeds the CRNG.
	AddEntropy(b []byte) error
	Now() time.Time
	SetClock(t time.Time) error
	SetHostname(name string) error
}

// Request is AfterRestore's input.
type Request struct {
	Entropy  []byte
	UnixNano int64
	Hostname string // empty: unchanged
}

// Apply checks req (ErrInvalid, with validHostname deciding the hostname), then reseeds,
// steps the clock and sets the hostname, in that order. It returns how far the clock was
// stepped (the host's time minus the guest's).
func Apply(sys Sys, req Request, validHostname func(string) bool) (time.Duration, error) {
	if n := len(req.Entropy); n < MinEntropy || n > MaxEntropy {
		return 0, fmt.Errorf("%w: entropy must be %d..%d bytes, got %d", ErrInvalid, MinEntropy, MaxEntropy, n)
	}
	if req.UnixNano <= 0 {
		return 0, fmt.Errorf("%w: no time given", ErrInvalid)
	}
	if req.Hostname != "" && !validHostname(req.Hostname) {
		return 0, fmt.Errorf("%w: bad hostname %q", ErrInvalid, req.Hostname)
	}
	if err := sys.AddEntropy(req.Entropy); err != nil {
		return 0, fmt.Errorf("reseed: %w", err)
	}
	host := time.Unix(0, req.UnixNano)
	step := host.Sub(sys.Now())
	if err := sys.SetClock(host); err != nil {
		return 0, fmt.Errorf("set clock: %w", err)
	}
	if req.Hostname != "" {
		if err := sys.SetHostname(req.Hostname); err != nil {
			return step, fmt.Errorf("set hostname: %w", err)
		}
	}
	return step, nil
}

// OS is the real Sys (needs CAP_SYS_ADMIN and CAP_SYS_TIME: the agent as PID 1).
type OS struct{}

// AddEntropy: RNDADDENTROPY on /dev/urandom with the bits credited (struct
// rand_pool_info: entropy_count in bits, buf_size in bytes, then the bytes), then
// RNDRESEEDCRNG, so the CRNG takes the new pool at once instead of at its next interval.
func (OS) AddEntropy(b []byte) error {
	f, err := os.OpenFile("/dev/urandom", os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	info := make([]byte, 8+len(b))
	*(*int32)(unsafe.Pointer(&info[0])) = int32(len(b) * 8)
	*(*int32)(unsafe.Pointer(&info[4])) = int32(len(b))
	copy(info[8:], b)
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, f.Fd(), unix.RNDADDENTROPY, uintptr(unsafe.Pointer(&info[0]))); e != 0 {
		return fmt.Errorf("RNDADDENTROPY: %w", e)
	}
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, f.Fd(), unix.RNDRESEEDCRNG, 0); e != 0 {
		return fmt.Errorf("RNDRESEEDCRNG: %w", e)
	}
	return nil
}

func (OS) Now() time.Time { return time.Now() }

func (OS) SetClock(t time.Time) error {
	ts := unix.NsecToTimespec(t.UnixNano())
	return unix.ClockSettime(unix.CLOCK_REALTIME, &ts)
}

func (OS) SetHostname(name string) error { return unix.Sethostname([]byte(name)) }
