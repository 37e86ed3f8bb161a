package agentsvc

import (
	"context"

	"google.golang.org/grpc/status"

	"vessel.dev/agent/internal/agentpb"
)

// Mounts and interface configuration need drivers (virtio_blk, virtiofs, virtio_net) that
// initsys loads in the background after the transport is up; these wrappers hold such
// requests until that load has finished, bounded by the request's context.

func waitReady(ctx context.Context, ready <-chan struct{}) error {
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	}
}

type gatedMounter struct {
	ready <-chan struct{}
	inner Mounter
}

func (g gatedMounter) Mount(ctx context.Context, req *agentpb.MountRequest) error {
	if err := waitReady(ctx, g.ready); err != nil {
		return err
	}
	return g.inner.Mount(ctx, req)
}

type gatedNet struct {
	ready <-chan struct{}
	inner NetConfigurer
}

func (g gatedNet) ConfigureInterface(ctx context.Context, req *agentpb.ConfigureInterfaceRequest) (string, error) {
	if err := waitReady(ctx, g.ready); err != nil {
		return "", err
	}
	return g.inner.ConfigureInterface(ctx, req)
}
