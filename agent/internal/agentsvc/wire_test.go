package agentsvc

import (
	"context"
	"encoding/binary"
	"io"
	"log"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containerd/ttrpc"
	"github.com/hashicorp/yamux"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"vessel.dev/agent/internal/agentpb"
)

// hostStream opens a raw stream named id on the host session and completes the handshake.
func hostStream(t *testing.T, sess *yamux.Session, id string) net.Conn {
	t.Helper()
	s, err := sess.OpenStream()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4+len(id))
	binary.BigEndian.PutUint32(b, uint32(len(id)))
	copy(b[4:], id)
	if _, err := s.Write(b); err != nil {
		t.Fatal(err)
	}
	var hdr [4]byte
	if _, err := io.ReadFull(s, hdr[:]); err != nil {
		t.Fatal(err)
	}
	reply := make([]byte, binary.BigEndian.Uint32(hdr[:]))
	if _, err := io.ReadFull(s, reply); err != nil || string(reply) != id {
		t.Fatalf("handshake %q: %q %v", id, reply, err)
	}
	return s
}

// TestServeListenerEndToEnd runs the agent's host mode on a unix socket and drives it
// like the host does: control plane on the first stream, Exec with a named stdout stream.
func TestServeListenerEndToEnd(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan struct{})
	logs := &syncWriter{b: &strings.Builder{}}
	done := make(chan error, 1)
	go func() {
		done <- ServeListener(ctx, l, log.New(logs, "vessel-agent: ", 0), false, func() { close(ready) })
	}()
	<-ready

	for round := 0; round < 2; round++ { // a second connection is a new session
		conn, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		sess, err := yamux.Client(conn, yamuxConfig())
		if err != nil {
			t.Fatal(err)
		}
		ctl, err := sess.OpenStream()
		if err != nil {
			t.Fatal(err)
		}
		tc := ttrpc.NewClient(ctl)
		c := agentpb.NewAgentClient(tc)
		cctx, ccancel := context.WithTimeout(ctx, 20*time.Second)
		info, err := c.Info(cctx, &agentpb.InfoRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(info.BootTimeline); n == 0 || info.BootTimeline[n-1].Name != "ready" {
			t.Fatalf("timeline %+v", info.BootTimeline)
		}
		execID := "e" + string(rune('0'+round))
		out := hostStream(t, sess, "out")
		if _, err := c.Exec(cctx, &agentpb.ExecRequest{ExecId: execID, Args: []string{"/bin/sh", "-c", "echo hi; exit 3"}, StdoutStream: "out"}); err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(out)
		if err != nil || string(b) != "hi\n" {
			t.Fatalf("stdout %q %v", b, err)
		}
		w, err := c.Wait(cctx, &agentpb.WaitRequest{ExecId: execID})
		if err != nil || w.ExitCode != 3 {
			t.Fatalf("wait %+v %v", w, err)
		}
		if _, err := c.Wait(cctx, &agentpb.WaitRequest{ExecId: "nope"}); status.Code(err) != codes.NotFound {
			t.Fatalf("unknown exec: %v", err)
		}
		if _, err := c.Shutdown(cctx, &agentpb.ShutdownRequest{}); status.Code(err) != codes.Unimplemented {
			t.Fatalf("shutdown in host mode: %v", err)
		}
		ccancel()
		tc.Close()
		sess.Close()
	}
	cancel()
	l.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("ServeListener did not return after cancel")
	}
	if !strings.Contains(logs.String(), "vessel-agent: ready") {
		t.Fatalf("logs %q", logs.String())
	}
}
