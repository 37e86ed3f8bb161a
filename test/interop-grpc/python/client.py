"""Python interop client of vessel's gRPC API (proto/vessel/vm/v1/vm.proto).

Driven by test/interop-grpc/python.test.ts, which generates the stubs with
`python -m grpc_tools.protoc` into a temp dir and passes it as --stubs. This client only
observes: it runs the lifecycle and the error cases against the daemon's unix socket and
prints one JSON report (codes, messages, outputs, checksums) on stdout; the vitest side
holds the expectations (test/interop-grpc/expectations.ts), shared with the Go client.

Usage: client.py --stubs DIR --socket PATH --share DIR --tag TAG --file NAME
                 --bytes N --instance ID
"""
import argparse
import hashlib
import json
import random
import sys
import threading
import time
import zlib

import grpc

CHUNK = 64 * 1024
UNKNOWN = "no-such-instance"


def main() -> None:
    p = argparse.ArgumentParser()
    for name in ("stubs", "socket", "share", "tag", "file", "instance"):
        p.add_argument(f"--{name}", required=True)
    p.add_argument("--bytes", type=int, required=True)
    a = p.parse_args()
    sys.path.insert(0, a.stubs)
    from vessel.vm.v1 import vm_pb2 as pb  # noqa: E402  (generated during the test)
    from vessel.vm.v1 import vm_pb2_grpc as rpc  # noqa: E402

    channel = grpc.insecure_channel(
        f"unix:{a.socket}",
        options=[("grpc.max_receive_message_length", 16 << 20)],
    )
    grpc.channel_ready_future(channel).result(timeout=30)
    mgr = rpc.ManagerStub(channel)
    ins = rpc.InstanceStub(channel)
    report = {"language": "python", "grpcio": grpc.__version__, "errors": {}}
    vid = a.instance

    def expect_error(name, fn):
        """Runs fn, which must fail; records the status code name and message."""
        try:
            fn()
            report["errors"][name] = {"code": "OK", "message": ""}
        except grpc.RpcError as e:
            report["errors"][name] = {"code": e.code().name, "message": e.details() or ""}

    def drain(call):
        return list(call)

    def exec_start(**kw):
        return pb.ExecRequest(start=pb.ExecStart(**kw))

    # --- discovery: reflection and health ----------------------------------------------
    report["reflection"] = reflection(channel)
    report["health"] = health(channel)

    # --- create, and configuration errors before start ---------------------------------
    info = mgr.CreateInstance(pb.CreateInstanceRequest(id=vid))
    report["created"] = {"id": info.id, "state": pb.State.Name(info.state), "accelerator": info.accelerator}
    expect_error("createDuplicateId", lambda: mgr.CreateInstance(pb.CreateInstanceRequest(id=vid)))
    expect_error("createBadId", lambda: mgr.CreateInstance(pb.CreateInstanceRequest(id="Bad/Id")))
    expect_error("getUnknown", lambda: mgr.GetInstance(pb.GetInstanceRequest(instance_id=UNKNOWN)))
    expect_error("addFsUnknownInstance", lambda: ins.AddFS(pb.AddFSRequest(instance_id=UNKNOWN, tag="t", host_path=a.share)))
    expect_error("cpuZero", lambda: ins.SetCPUAndMemory(pb.SetCPUAndMemoryRequest(instance_id=vid, cpu=0, ram_mib=256)))
    expect_error("badMac", lambda: ins.AddNIC(pb.AddNICRequest(
        instance_id=vid, endpoint=a.share + "/net.sock", mac="not-a-mac", mode=pb.NETWORK_MODE_UNIXSTREAM)))
    expect_error("badTag", lambda: ins.AddFS(pb.AddFSRequest(instance_id=vid, tag="bad tag/x", host_path=a.share)))
    expect_error("missingHostPath", lambda: ins.AddFS(pb.AddFSRequest(
        instance_id=vid, tag="missing", host_path=a.share + "/does-not-exist")))
    ins.SetCPUAndMemory(pb.SetCPUAndMemoryRequest(instance_id=vid, cpu=1, ram_mib=256))
    ins.AddFS(pb.AddFSRequest(instance_id=vid, tag=a.tag, host_path=a.share, read_only=True))
    expect_error("duplicateTag", lambda: ins.AddFS(pb.AddFSRequest(instance_id=vid, tag=a.tag, host_path=a.share)))
    expect_error("execBeforeStart", lambda: drain(ins.Exec(iter([exec_start(instance_id=vid, args=["true"])]))))
    expect_error("streamBeforeStart", lambda: drain(ins.StartStream(iter([pb.StreamRequest(instance_id=vid, stream_id="early")]))))
    expect_error("execUnknownInstance", lambda: drain(ins.Exec(iter([exec_start(instance_id=UNKNOWN, args=["true"])]))))

    # --- start ----------------------------------------------------------------------------
    t0 = time.monotonic()
    st = ins.Start(pb.StartRequest(instance_id=vid))
    report["started"] = {
        "state": pb.State.Name(st.info.state),
        "shares": [s.tag for s in st.info.config.shares],
        "guestTimeline": [e.name for e in st.guest_timeline],
        "seconds": time.monotonic() - t0,
    }
    expect_error("addFsAfterStart", lambda: ins.AddFS(pb.AddFSRequest(instance_id=vid, tag="late", host_path=a.share)))
    expect_error("startTwice", lambda: ins.Start(pb.StartRequest(instance_id=vid)))

    # --- Exec cat /mnt/<tag>/<file>: stdout as messages ---------------------------------------
    out, err, started, status = b"", b"", None, None
    for m in ins.Exec(iter([exec_start(instance_id=vid, args=["cat", f"/mnt/{a.tag}/{a.file}"])])):
        kind = m.WhichOneof("msg")
        if kind == "started":
            started = m.started.pid
        elif kind == "stdout":
            out += m.stdout
        elif kind == "stderr":
            err += m.stderr
        elif kind == "exit":
            status = m.exit
    report["catFile"] = {
        "stdout": out.decode("utf-8", "replace"), "stderr": err.decode("utf-8", "replace"),
        "pid": started, "exitCode": status.exit_code if status else None,
    }

    # --- StartStream + Exec `cat` with that stream as stdin and stdout: N bytes round trip -----
    report["bigStream"] = big_stream(pb, ins, vid, a.bytes)

    # --- a duplicate stream id while the first is claimed by a running process -----------------
    report["errors"]["duplicateStreamId"], report["heldStream"] = duplicate_stream(pb, ins, vid)

    # --- shutdown, delete ---------------------------------------------------------------------
    report["listed"] = [(i.id, pb.State.Name(i.state)) for i in mgr.ListInstances(pb.ListInstancesRequest()).instances]
    ins.Shutdown(pb.ShutdownRequest(instance_id=vid))
    report["afterShutdown"] = pb.State.Name(mgr.GetInstance(pb.GetInstanceRequest(instance_id=vid)).state)
    expect_error("execAfterShutdown", lambda: drain(ins.Exec(iter([exec_start(instance_id=vid, args=["true"])]))))
    mgr.DeleteInstance(pb.DeleteInstanceRequest(instance_id=vid))
    expect_error("getAfterDelete", lambda: mgr.GetInstance(pb.GetInstanceRequest(instance_id=vid)))
    report["listedAfterDelete"] = [i.id for i in mgr.ListInstances(pb.ListInstancesRequest()).instances]
    channel.close()
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")


def big_stream(pb, ins, vid, n):
    payload = random.Random(20261123).randbytes(n)
    sid = "py-io"
    result = {"sent": 0, "received": 0}

    def requests():
        yield pb.StreamRequest(instance_id=vid, stream_id=sid)
        for i in range(0, n, CHUNK):
            chunk = payload[i:i + CHUNK]
            result["sent"] += len(chunk)
            yield pb.StreamRequest(data=chunk)
        # returning half-closes: the guest side's input (cat's stdin) ends

    t0 = time.monotonic()
    stream = ins.StartStream(requests())
    exec_result = {}

    def run_exec():
        try:
            for m in ins.Exec(iter([pb.ExecRequest(start=pb.ExecStart(
                    instance_id=vid, args=["cat"], stdin_stream=sid, stdout_stream=sid))])):
                kind = m.WhichOneof("msg")
                if kind == "exit":
                    exec_result["exitCode"] = m.exit.exit_code
                elif kind in ("stdout", "stderr"):
                    exec_result.setdefault("unexpected", []).append(kind)
        except grpc.RpcError as e:
            exec_result["error"] = f"{e.code().name}: {e.details()}"

    th = threading.Thread(target=run_exec)
    th.start()
    sha, crc = hashlib.sha256(), 0
    try:
        for m in stream:
            sha.update(m.data)
            crc = zlib.crc32(m.data, crc)
            result["received"] += len(m.data)
    except grpc.RpcError as e:
        result["error"] = f"{e.code().name}: {e.details()}"
    th.join()
    result.update({
        "seconds": time.monotonic() - t0,
        "sentSha256": hashlib.sha256(payload).hexdigest(),
        "receivedSha256": sha.hexdigest(),
        "sentCrc32": zlib.crc32(payload),
        "receivedCrc32": crc,
        "exec": exec_result,
    })
    return result


def duplicate_stream(pb, ins, vid):
    """Opens stream `dup` and has `cat` claim it (stdin and stdout), then opens `dup` again."""
    sid = "py-dup"
    release = threading.Event()

    def held():
        yield pb.StreamRequest(instance_id=vid, stream_id=sid)
        release.wait(60)
        yield pb.StreamRequest(data=b"bye\n")

    first = ins.StartStream(held())
    ex = ins.Exec(iter([pb.ExecRequest(start=pb.ExecStart(instance_id=vid, args=["cat"], stdin_stream=sid, stdout_stream=sid))]))
    started = next(ex)  # the agent claimed the stream before it answers `started`
    dup = {"code": "OK", "message": ""}
    try:
        list(ins.StartStream(iter([pb.StreamRequest(instance_id=vid, stream_id=sid)])))
    except grpc.RpcError as e:
        dup = {"code": e.code().name, "message": e.details() or ""}
    release.set()
    echoed = b"".join(m.data for m in first)
    exit_codes = [m.exit.exit_code for m in ex if m.WhichOneof("msg") == "exit"]
    return dup, {"startedFirst": started.WhichOneof("msg"), "echoed": echoed.decode(), "exitCodes": exit_codes}


def reflection(channel):
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
    from google.protobuf.descriptor_pool import DescriptorPool

    db = ProtoReflectionDescriptorDatabase(channel)
    services = sorted(db.get_services())
    pool = DescriptorPool(db)
    methods = {}
    for s in services:
        if s.startswith("vessel."):
            methods[s] = [m.name for m in pool.FindServiceByName(s).methods]
    return {"services": services, "methods": methods}


def health(channel):
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    stub = health_pb2_grpc.HealthStub(channel)
    out = {}
    for name in ("", "vessel.vm.v1.Manager", "vessel.vm.v1.Instance"):
        r = stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=10)
        out[name] = health_pb2.HealthCheckResponse.ServingStatus.Name(r.status)
    return out


if __name__ == "__main__":
    main()
