// Command vessel-interop-go is the Go interop client of vessel's gRPC API
// (proto/vessel/vm/v1/vm.proto), built with google.golang.org/grpc.
//
// The stubs (package vmv1, go_package "vessel.dev/interop/vmv1") are not committed: the
// test (test/interop-grpc/go.test.ts) copies this module to a temp dir, generates them with
// protoc + protoc-gen-go + protoc-gen-go-grpc, builds, and runs this client against the
// daemon's unix socket. The client only observes: it runs the lifecycle and the error cases
// and prints one JSON report (codes, messages, outputs, checksums); the expectations live on
// the vitest side (test/interop-grpc/expectations.ts), shared with the Python client.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"log"
	"math/rand/v2"
	"sort"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	pb "vessel.dev/interop/vmv1"
)

const (
	chunk   = 64 * 1024
	unknown = "no-such-instance"
)

type errorResult struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type report struct {
	Language      string                 `json:"language"`
	Reflection    map[string]any         `json:"reflection"`
	Health        map[string]string      `json:"health"`
	Created       map[string]any         `json:"created"`
	Started       map[string]any         `json:"started"`
	CatFile       map[string]any         `json:"catFile"`
	BigStream     map[string]any         `json:"bigStream"`
	HeldStream    map[string]any         `json:"heldStream"`
	Listed        [][2]string            `json:"listed"`
	AfterShutdown string                 `json:"afterShutdown"`
	ListedAfter   []string               `json:"listedAfterDelete"`
	Errors        map[string]errorResult `json:"errors"`
}

func errorOf(err error) errorResult {
	if err == nil {
		return errorResult{Code: "OK"}
	}
	s, _ := status.FromError(err)
	return errorResult{Code: s.Code().String(), Message: s.Message()}
}

// codeName gives the canonical upper-case name ("INVALID_ARGUMENT") that Python also reports.
func codeName(r errorResult) errorResult {
	names := map[string]string{
		"OK": "OK", "Canceled": "CANCELLED", "Unknown": "UNKNOWN", "InvalidArgument": "INVALID_ARGUMENT",
		"DeadlineExceeded": "DEADLINE_EXCEEDED", "NotFound": "NOT_FOUND", "AlreadyExists": "ALREADY_EXISTS",
		"PermissionDenied": "PERMISSION_DENIED", "ResourceExhausted": "RESOURCE_EXHAUSTED",
		"FailedPrecondition": "FAILED_PRECONDITION", "Aborted": "ABORTED", "OutOfRange": "OUT_OF_RANGE",
		"Unimplemented": "UNIMPLEMENTED", "Internal": "INTERNAL", "Unavailable": "UNAVAILABLE",
		"DataLoss": "DATA_LOSS", "Unauthenticated": "UNAUTHENTICATED",
	}
	if n, ok := names[r.Code]; ok {
		r.Code = n
	}
	return r
}

// drainExec sends start, half-closes, and reads until the end; it returns the call's error.
func drainExec(ctx context.Context, ins pb.InstanceClient, start *pb.ExecStart) ([]*pb.ExecResponse, error) {
	c, err := ins.Exec(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.Send(&pb.ExecRequest{Msg: &pb.ExecRequest_Start{Start: start}}); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if err := c.CloseSend(); err != nil {
		return nil, err
	}
	var out []*pb.ExecResponse
	for {
		m, err := c.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, m)
	}
}

func drainStream(ctx context.Context, ins pb.InstanceClient, first *pb.StreamRequest) error {
	c, err := ins.StartStream(ctx)
	if err != nil {
		return err
	}
	if err := c.Send(first); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if err := c.CloseSend(); err != nil {
		return err
	}
	for {
		if _, err := c.Recv(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

func main() {
	socket := flag.String("socket", "", "daemon unix socket")
	share := flag.String("share", "", "host directory to share")
	tag := flag.String("tag", "", "virtio-fs tag")
	file := flag.String("file", "", "file name in the share")
	vid := flag.String("instance", "", "instance id")
	nbytes := flag.Int("bytes", 16<<20, "bytes through StartStream + cat")
	flag.Parse()
	if *socket == "" || *share == "" || *tag == "" || *file == "" || *vid == "" {
		log.Fatal("usage: vessel-interop-go -socket PATH -share DIR -tag TAG -file NAME -instance ID [-bytes N]")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	conn, err := grpc.NewClient("unix:"+*socket, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16<<20)))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	mgr := pb.NewManagerClient(conn)
	ins := pb.NewInstanceClient(conn)
	r := report{Language: "go", Errors: map[string]errorResult{}}
	expectError := func(name string, err error) { r.Errors[name] = codeName(errorOf(err)) }
	must := func(what string, err error) {
		if err != nil {
			log.Fatalf("%s: %v", what, err)
		}
	}

	// --- discovery: reflection and health --------------------------------------------------
	r.Reflection, err = reflect(ctx, conn)
	must("reflection", err)
	r.Health = map[string]string{}
	for _, svc := range []string{"", "vessel.vm.v1.Manager", "vessel.vm.v1.Instance"} {
		h, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		must("health "+svc, err)
		r.Health[svc] = h.GetStatus().String()
	}

	// --- create, and configuration errors before start ----------------------------------------
	info, err := mgr.CreateInstance(ctx, &pb.CreateInstanceRequest{Id: *vid})
	must("CreateInstance", err)
	r.Created = map[string]any{"id": info.GetId(), "state": info.GetState().String(), "accelerator": info.GetAccelerator()}
	_, err = mgr.CreateInstance(ctx, &pb.CreateInstanceRequest{Id: *vid})
	expectError("createDuplicateId", err)
	_, err = mgr.CreateInstance(ctx, &pb.CreateInstanceRequest{Id: "Bad/Id"})
	expectError("createBadId", err)
	_, err = mgr.GetInstance(ctx, &pb.GetInstanceRequest{InstanceId: unknown})
	expectError("getUnknown", err)
	_, err = ins.AddFS(ctx, &pb.AddFSRequest{InstanceId: unknown, Tag: "t", HostPath: *share})
	expectError("addFsUnknownInstance", err)
	_, err = ins.SetCPUAndMemory(ctx, &pb.SetCPUAndMemoryRequest{InstanceId: *vid, Cpu: 0, RamMib: 256})
	expectError("cpuZero", err)
	_, err = ins.AddNIC(ctx, &pb.AddNICRequest{InstanceId: *vid, Endpoint: *share + "/net.sock", Mac: "not-a-mac", Mode: pb.NetworkMode_NETWORK_MODE_UNIXSTREAM})
	expectError("badMac", err)
	_, err = ins.AddFS(ctx, &pb.AddFSRequest{InstanceId: *vid, Tag: "bad tag/x", HostPath: *share})
	expectError("badTag", err)
	_, err = ins.AddFS(ctx, &pb.AddFSRequest{InstanceId: *vid, Tag: "missing", HostPath: *share + "/does-not-exist"})
	expectError("missingHostPath", err)
	_, err = ins.SetCPUAndMemory(ctx, &pb.SetCPUAndMemoryRequest{InstanceId: *vid, Cpu: 1, RamMib: 256})
	must("SetCPUAndMemory", err)
	_, err = ins.AddFS(ctx, &pb.AddFSRequest{InstanceId: *vid, Tag: *tag, HostPath: *share, ReadOnly: true})
	must("AddFS", err)
	_, err = ins.AddFS(ctx, &pb.AddFSRequest{InstanceId: *vid, Tag: *tag, HostPath: *share})
	expectError("duplicateTag", err)
	_, err = drainExec(ctx, ins, &pb.ExecStart{InstanceId: *vid, Args: []string{"true"}})
	expectError("execBeforeStart", err)
	expectError("streamBeforeStart", drainStream(ctx, ins, &pb.StreamRequest{InstanceId: *vid, StreamId: "early"}))
	_, err = drainExec(ctx, ins, &pb.ExecStart{InstanceId: unknown, Args: []string{"true"}})
	expectError("execUnknownInstance", err)

	// --- start -------------------------------------------------------------------------------
	t0 := time.Now()
	st, err := ins.Start(ctx, &pb.StartRequest{InstanceId: *vid})
	must("Start", err)
	var tags, timeline []string
	for _, s := range st.GetInfo().GetConfig().GetShares() {
		tags = append(tags, s.GetTag())
	}
	for _, e := range st.GetGuestTimeline() {
		timeline = append(timeline, e.GetName())
	}
	r.Started = map[string]any{"state": st.GetInfo().GetState().String(), "shares": tags, "guestTimeline": timeline, "seconds": time.Since(t0).Seconds()}
	_, err = ins.AddFS(ctx, &pb.AddFSRequest{InstanceId: *vid, Tag: "late", HostPath: *share})
	expectError("addFsAfterStart", err)
	_, err = ins.Start(ctx, &pb.StartRequest{InstanceId: *vid})
	expectError("startTwice", err)

	// --- Exec cat /mnt/<tag>/<file>: stdout as messages -----------------------------------------
	msgs, err := drainExec(ctx, ins, &pb.ExecStart{InstanceId: *vid, Args: []string{"cat", "/mnt/" + *tag + "/" + *file}})
	must("Exec cat", err)
	var stdout, stderr []byte
	r.CatFile = map[string]any{"exitCode": nil, "pid": nil}
	for _, m := range msgs {
		switch x := m.GetMsg().(type) {
		case *pb.ExecResponse_Started:
			r.CatFile["pid"] = x.Started.GetPid()
		case *pb.ExecResponse_Stdout:
			stdout = append(stdout, x.Stdout...)
		case *pb.ExecResponse_Stderr:
			stderr = append(stderr, x.Stderr...)
		case *pb.ExecResponse_Exit:
			r.CatFile["exitCode"] = x.Exit.GetExitCode()
		}
	}
	r.CatFile["stdout"], r.CatFile["stderr"] = string(stdout), string(stderr)

	// --- StartStream + Exec `cat` with that stream as stdin and stdout: N bytes round trip ------
	r.BigStream = bigStream(ctx, ins, *vid, *nbytes)

	// --- a duplicate stream id while the first is claimed by a running process -------------------
	var dup errorResult
	dup, r.HeldStream = duplicateStream(ctx, ins, *vid)
	r.Errors["duplicateStreamId"] = dup

	// --- shutdown, delete ----------------------------------------------------------------------
	list, err := mgr.ListInstances(ctx, &pb.ListInstancesRequest{})
	must("ListInstances", err)
	for _, i := range list.GetInstances() {
		r.Listed = append(r.Listed, [2]string{i.GetId(), i.GetState().String()})
	}
	_, err = ins.Shutdown(ctx, &pb.ShutdownRequest{InstanceId: *vid})
	must("Shutdown", err)
	got, err := mgr.GetInstance(ctx, &pb.GetInstanceRequest{InstanceId: *vid})
	must("GetInstance after Shutdown", err)
	r.AfterShutdown = got.GetState().String()
	_, err = drainExec(ctx, ins, &pb.ExecStart{InstanceId: *vid, Args: []string{"true"}})
	expectError("execAfterShutdown", err)
	_, err = mgr.DeleteInstance(ctx, &pb.DeleteInstanceRequest{InstanceId: *vid})
	must("DeleteInstance", err)
	_, err = mgr.GetInstance(ctx, &pb.GetInstanceRequest{InstanceId: *vid})
	expectError("getAfterDelete", err)
	list, err = mgr.ListInstances(ctx, &pb.ListInstancesRequest{})
	must("ListInstances after delete", err)
	r.ListedAfter = []string{}
	for _, i := range list.GetInstances() {
		r.ListedAfter = append(r.ListedAfter, i.GetId())
	}
	out, err := json.Marshal(r)
	must("json", err)
	fmt.Println(string(out))
}

func bigStream(ctx context.Context, ins pb.InstanceClient, vid string, n int) map[string]any {
	const sid = "go-io"
	payload := make([]byte, n)
	rng := rand.NewChaCha8([32]byte{20, 26, 11, 23})
	_, _ = rng.Read(payload)
	res := map[string]any{"sent": 0, "received": 0}
	t0 := time.Now()
	s, err := ins.StartStream(ctx)
	if err != nil {
		res["error"] = err.Error()
		return res
	}
	sendErr := make(chan error, 1)
	go func() {
		err := s.Send(&pb.StreamRequest{InstanceId: vid, StreamId: sid})
		sent := 0
		for i := 0; err == nil && i < n; i += chunk {
			end := min(i+chunk, n)
			err = s.Send(&pb.StreamRequest{Data: payload[i:end]})
			sent += end - i
		}
		res["sent"] = sent
		if err == nil {
			err = s.CloseSend() // the guest side's input (cat's stdin) ends
		}
		sendErr <- err
	}()
	execRes := map[string]any{}
	execDone := make(chan struct{})
	go func() {
		defer close(execDone)
		msgs, err := drainExec(ctx, ins, &pb.ExecStart{InstanceId: vid, Args: []string{"cat"}, StdinStream: sid, StdoutStream: sid})
		if err != nil {
			execRes["error"] = err.Error()
		}
		for _, m := range msgs {
			switch x := m.GetMsg().(type) {
			case *pb.ExecResponse_Exit:
				execRes["exitCode"] = x.Exit.GetExitCode()
			case *pb.ExecResponse_Stdout, *pb.ExecResponse_Stderr:
				execRes["unexpected"] = "stdio message although stdout rides the stream"
			}
		}
	}()
	h := sha256.New()
	var crc uint32
	received := 0
	for {
		m, err := s.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			res["error"] = err.Error()
			break
		}
		h.Write(m.GetData())
		crc = crc32.Update(crc, crc32.IEEETable, m.GetData())
		received += len(m.GetData())
	}
	if err := <-sendErr; err != nil {
		res["sendError"] = err.Error()
	}
	<-execDone
	sum := sha256.Sum256(payload)
	res["received"] = received
	res["seconds"] = time.Since(t0).Seconds()
	res["sentSha256"] = hex.EncodeToString(sum[:])
	res["receivedSha256"] = hex.EncodeToString(h.Sum(nil))
	res["sentCrc32"] = crc32.ChecksumIEEE(payload)
	res["receivedCrc32"] = crc
	res["exec"] = execRes
	return res
}

// duplicateStream opens stream "go-dup", has `cat` claim it as stdin and stdout, opens
// "go-dup" again (refused), then checks that the first still works.
func duplicateStream(ctx context.Context, ins pb.InstanceClient, vid string) (errorResult, map[string]any) {
	const sid = "go-dup"
	held := map[string]any{}
	first, err := ins.StartStream(ctx)
	if err != nil {
		return errorResult{Code: "CLIENT_ERROR", Message: err.Error()}, held
	}
	if err := first.Send(&pb.StreamRequest{InstanceId: vid, StreamId: sid}); err != nil {
		return errorResult{Code: "CLIENT_ERROR", Message: err.Error()}, held
	}
	ex, err := ins.Exec(ctx)
	if err != nil {
		return errorResult{Code: "CLIENT_ERROR", Message: err.Error()}, held
	}
	if err := ex.Send(&pb.ExecRequest{Msg: &pb.ExecRequest_Start{Start: &pb.ExecStart{InstanceId: vid, Args: []string{"cat"}, StdinStream: sid, StdoutStream: sid}}}); err != nil {
		return errorResult{Code: "CLIENT_ERROR", Message: err.Error()}, held
	}
	_ = ex.CloseSend()
	startedMsg, err := ex.Recv() // the agent claimed the stream before it answers `started`
	if err != nil {
		return errorResult{Code: "CLIENT_ERROR", Message: "exec: " + err.Error()}, held
	}
	held["startedFirst"] = "started"
	if startedMsg.GetStarted() == nil {
		held["startedFirst"] = fmt.Sprintf("%T", startedMsg.GetMsg())
	}
	dup := codeName(errorOf(drainStream(ctx, ins, &pb.StreamRequest{InstanceId: vid, StreamId: sid})))
	_ = first.Send(&pb.StreamRequest{Data: []byte("bye\n")})
	_ = first.CloseSend()
	var echoed []byte
	for {
		m, err := first.Recv()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				held["error"] = err.Error()
			}
			break
		}
		echoed = append(echoed, m.GetData()...)
	}
	held["echoed"] = string(echoed)
	codes := []int32{}
	for {
		m, err := ex.Recv()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				held["execError"] = err.Error()
			}
			break
		}
		if e := m.GetExit(); e != nil {
			codes = append(codes, e.GetExitCode())
		}
	}
	held["exitCodes"] = codes
	return dup, held
}

// reflect lists the services through grpc.reflection.v1 and the methods of vessel's.
func reflect(ctx context.Context, conn *grpc.ClientConn) (map[string]any, error) {
	c, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = c.CloseSend() }()
	ask := func(req *reflectionpb.ServerReflectionRequest) (*reflectionpb.ServerReflectionResponse, error) {
		if err := c.Send(req); err != nil {
			return nil, err
		}
		return c.Recv()
	}
	resp, err := ask(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
	if err != nil {
		return nil, err
	}
	services := []string{}
	for _, s := range resp.GetListServicesResponse().GetService() {
		services = append(services, s.GetName())
	}
	sort.Strings(services)
	methods := map[string][]string{}
	for _, svc := range services {
		if len(svc) < 7 || svc[:7] != "vessel." {
			continue
		}
		resp, err := ask(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: svc}})
		if err != nil {
			return nil, err
		}
		if e := resp.GetErrorResponse(); e != nil {
			return nil, fmt.Errorf("reflection of %s: %s", svc, e.GetErrorMessage())
		}
		for _, raw := range resp.GetFileDescriptorResponse().GetFileDescriptorProto() {
			fd := &descriptorpb.FileDescriptorProto{}
			if err := proto.Unmarshal(raw, fd); err != nil {
				return nil, err
			}
			for _, s := range fd.GetService() {
				if fd.GetPackage()+"."+s.GetName() != svc {
					continue
				}
				for _, m := range s.GetMethod() {
					methods[svc] = append(methods[svc], m.GetName())
				}
			}
		}
	}
	return map[string]any{"services": services, "methods": methods}, nil
}
