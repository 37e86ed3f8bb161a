// Shared by bench/grpc-stream and bench/grpc-exec-latency: a VesselDaemon in this process on
// a private unix socket, a grpc-js client of vessel.vm.v1 (dynamic stubs from the proto the
// daemon serves), and one VM created and started through the API. The TypeScript-API path
// of each figure uses the daemon's own instance (daemon.registry.get(id).instance), so both
// paths reach the same guest.
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { VesselDaemon, vmPackageDefinition } from '../src/api/index.js';
import { QemuManager, type Instance } from '../src/vm/index.js';
import { testCpuModel } from '../test/support/test-vm.js';
import { makePrivateTempDir } from '../test/support/tmpdir.js';

export interface BenchDaemon {
  daemon: VesselDaemon;
  /** vessel.vm.v1.Instance client (grpc-js). */
  rpc: any;
  instanceId: string;
  instance: Instance;
  stop(): Promise<void>;
}

export function unaryCall<T = any>(client: any, method: string, request: Record<string, unknown>): Promise<T> {
  return new Promise((resolve, reject) => client[method](request, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res))));
}

/** Ends when a streaming call has ended (status OK) or fails with its error. */
export function callEnded(call: grpc.ClientDuplexStream<any, any>): Promise<void> {
  return new Promise((resolve, reject) => {
    call.on('error', reject);
    call.on('status', (s: grpc.StatusObject) => (s.code === grpc.status.OK ? resolve() : reject(new Error(`${s.code}: ${s.details}`))));
  });
}

export async function startBenchDaemon(): Promise<BenchDaemon> {
  const tmp = await makePrivateTempDir('bench-grpc');
  const daemon = new VesselDaemon({
    socketPath: path.join(tmp.dir, 'vessel.sock'),
    instancesDir: path.join(tmp.dir, 'instances'),
    manager: new QemuManager({ cpuModel: testCpuModel() }),
  });
  await daemon.listen();
  const pkg = grpc.loadPackageDefinition(vmPackageDefinition()) as any;
  const address = `unix:${daemon.socketPath}`;
  const manager = new pkg.vessel.vm.v1.Manager(address, grpc.credentials.createInsecure());
  // BENCH_GRPC_WINDOW: the client's HTTP/2 flow-control window (grpc-js default: 64 KiB).
  const window = process.env.BENCH_GRPC_WINDOW ? { 'grpc-node.flow_control_window': Number(process.env.BENCH_GRPC_WINDOW) } : {};
  const rpc = new pkg.vessel.vm.v1.Instance(address, grpc.credentials.createInsecure(), window);
  const stop = async () => {
    manager.close();
    rpc.close();
    await daemon.stop();
    await tmp.remove();
  };
  try {
    const instanceId = 'bench';
    await unaryCall(manager, 'CreateInstance', { id: instanceId });
    await unaryCall(rpc, 'SetCPUAndMemory', { instanceId, cpu: 1, ramMib: 256 });
    await unaryCall(rpc, 'Start', { instanceId });
    return { daemon, rpc, instanceId, instance: daemon.registry.get(instanceId).instance, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
