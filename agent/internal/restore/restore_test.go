package restore

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

type fakeSys struct {
	entropy  []byte
	now      time.Time
	clock    time.Time
	hostname string
	failAdd  error
}

func (f *fakeSys) AddEntropy(b []byte) error {
	if f.failAdd != nil {
		return f.failAdd
	}
	f.entropy = append([]byte(nil), b...)
	return nil
}
func (f *fakeSys) Now() time.Time                { return f.now }
func (f *fakeSys) SetClock(t time.Time) error    { f.clock = t; return nil }
func (f *fakeSys) SetHostname(name string) error { f.hostname = name; return nil }

func anyName(s string) bool { return s != "bad name" }

func TestApplyReseedsStepsClockAndSetsHostname(t *testing.T) {
	sys := &fakeSys{now: time.Unix(1000, 0)}
	e := bytes.Repeat([]byte{7}, 64)
	step, err := Apply(sys, Request{Entropy: e, UnixNano: time.Unix(1090, 5).UnixNano(), Hostname: "clone-1"}, anyName)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sys.entropy, e) || !sys.clock.Equal(time.Unix(1090, 5)) || sys.hostname != "clone-1" {
		t.Fatalf("applied %+v", sys)
	}
	if step != 90*time.Second+5 {
		t.Fatalf("step %v", step)
	}
}

func TestApplyKeepsHostnameWhenUnset(t *testing.T) {
	sys := &fakeSys{now: time.Unix(1000, 0), hostname: "before"}
	if _, err := Apply(sys, Request{Entropy: make([]byte, MinEntropy), UnixNano: 1}, anyName); err != nil {
		t.Fatal(err)
	}
	if sys.hostname != "before" {
		t.Fatalf("hostname changed to %q", sys.hostname)
	}
}

func TestApplyRefusesBadRequestsBeforeChangingAnything(t *testing.T) {
	for name, req := range map[string]Request{
		"short entropy": {Entropy: make([]byte, MinEntropy-1), UnixNano: 1},
		"long entropy":  {Entropy: make([]byte, MaxEntropy+1), UnixNano: 1},
		"no time":       {Entropy: make([]byte, MinEntropy)},
		"bad hostname":  {Entropy: make([]byte, MinEntropy), UnixNano: 1, Hostname: "bad name"},
	} {
		sys := &fakeSys{}
		if _, err := Apply(sys, req, anyName); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: want ErrInvalid, got %v", name, err)
		}
		if sys.entropy != nil || !sys.clock.IsZero() || sys.hostname != "" {
			t.Errorf("%s: changed the guest: %+v", name, sys)
		}
	}
}

func TestApplyStopsAtAFailedReseed(t *testing.T) {
	sys := &fakeSys{failAdd: errors.New("EPERM")}
	if _, err := Apply(sys, Request{Entropy: make([]byte, MinEntropy), UnixNano: 1, Hostname: "x"}, anyName); err == nil {
		t.Fatal("want an error")
	}
	if !sys.clock.IsZero() || sys.hostname != "" {
		t.Fatal("went on after a failed reseed")
	}
}
