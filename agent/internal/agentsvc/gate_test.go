package agentsvc

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"vessel.dev/agent/internal/agentpb"
)

type countingMounter struct{ calls chan struct{} }

func (c countingMounter) Mount(context.Context, *agentpb.MountRequest) error {
	c.calls <- struct{}{}
	return nil
}

func TestGatedMounterWaitsForModules(t *testing.T) {
	ready := make(chan struct{})
	inner := countingMounter{calls: make(chan struct{}, 1)}
	g := gatedMounter{ready: ready, inner: inner}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := g.Mount(ctx, &agentpb.MountRequest{})
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("before the modules: got %v, want DEADLINE_EXCEEDED", err)
	}
	select {
	case <-inner.calls:
		t.Fatal("mount ran before the modules were loaded")
	default:
	}

	done := make(chan error, 1)
	go func() { done <- g.Mount(context.Background(), &agentpb.MountRequest{}) }()
	close(ready)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	select {
	case <-inner.calls:
	default:
		t.Fatal("mount did not run once the modules were loaded")
	}
}
