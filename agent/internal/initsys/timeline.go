package initsys

import (
	"sync"
	"time"
)

// Event is one boot step, in nanoseconds since the agent started.
type Event struct {
	Name string
	AtNs int64
}

// Timeline records boot steps. Safe for concurrent use.
type Timeline struct {
	start  time.Time
	mu     sync.Mutex
	events []Event
}

// processStart is as close to the agent's start as Go lets us observe.
var processStart = time.Now()

// NewTimeline starts a timeline at the agent's start.
func NewTimeline() *Timeline { return &Timeline{start: processStart} }

// NewTimelineAt starts a timeline at t (tests).
func NewTimelineAt(t time.Time) *Timeline { return &Timeline{start: t} }

// Mark records name now. At most 64 events are kept.
func (t *Timeline) Mark(name string) {
	at := time.Since(t.start).Nanoseconds()
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.events) < 64 {
		t.events = append(t.events, Event{Name: name, AtNs: at})
	}
}

// Events returns a copy of the recorded events in order.
func (t *Timeline) Events() []Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Event(nil), t.events...)
}
