// gRPC reflection as a stranger's client sees it: grpcurl (github.com/fullstorydev/grpcurl,
// in .interop-bin/, installed by scripts/install-deps.sh) knows nothing of vessel's protos
// and learns every type from the reflection of a real `vessel serve` child process (the
// compiled CLI, on a private unix socket and VESSEL_HOME). It must see the .proto files'
// own field names and map entries, call with them, and reach Health; one VM boots through
// calls written with the proto's field names and is deleted again.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type protobuf from 'protobufjs';
import descriptorTypes from 'protobufjs/ext/descriptor/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processesOf, spawnChild, useTestHome, vesselBin, type Child, type TestHome } from '../cli/helpers.js';
import { protoDir, repoRoot } from '../support/repo.js';
import { makePrivateTempDir } from '../support/tmpdir.js';

const GRPCURL = path.join(repoRoot, '.interop-bin', 'grpcurl');
const BOOT = 180_000;
/** How long the daemon may take to stop after SIGTERM (it shuts its VMs down first). */
const STOP_BOUND_MS = 30_000;

let home: TestHome;
let scratch: { dir: string; remove: () => Promise<void> };
let daemon: Child;
let socket: string;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** One grpcurl run over the daemon's socket; a call's error status comes back as JSON on stderr. */
function grpcurl(args: string[], opts: { data?: unknown; maxSeconds?: number; flags?: string[] } = {}): Promise<Result> {
  const data = opts.data === undefined ? [] : ['-d', JSON.stringify(opts.data)];
  const argv = ['-plaintext', '-unix', '-format-error', '-max-time', String(opts.maxSeconds ?? 20), ...(opts.flags ?? []), ...data, socket, ...args];
  return new Promise((resolve) => {
    execFile(GRPCURL, argv, { timeout: ((opts.maxSeconds ?? 20) + 10) * 1000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A call that must succeed: its JSON response. */
async function call(method: string, data: unknown, maxSeconds?: number): Promise<Record<string, unknown>> {
  const r = await grpcurl([method], { data, ...(maxSeconds ? { maxSeconds } : {}) });
  expect(r.code, `${method}: ${r.stderr}${r.stdout}`).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

// protobufjs 8 ships ext/descriptor with empty typings; at run time it exports descriptor.proto's types.
const { FileDescriptorSet } = descriptorTypes as unknown as { FileDescriptorSet: protobuf.Type };

/** Each file of a FileDescriptorSet as a plain object (every descriptor.proto field), by name. */
function filesOf(descriptorSet: string): Map<string, Record<string, unknown>> {
  const set = FileDescriptorSet.decode(fs.readFileSync(descriptorSet));
  const { file } = FileDescriptorSet.toObject(set, { longs: String, enums: String }) as { file: Array<Record<string, unknown>> };
  return new Map(file.map((f) => [f.name as string, f]));
}

beforeAll(async () => {
  if (!fs.existsSync(GRPCURL)) throw new Error(`${GRPCURL} is missing: run scripts/install-deps.sh`);
  home = await useTestHome();
  scratch = await makePrivateTempDir('grpcurl');
  socket = path.join(scratch.dir, 'vessel.sock');
  daemon = spawnChild('node', [vesselBin, 'serve', '--socket', socket], { VESSEL_HOME: home.dir });
  await daemon.waitForStderr('"msg":"vessel daemon listening"');
}, 600_000);

afterAll(async () => {
  if (daemon && daemon.proc.exitCode === null && daemon.proc.signalCode === null) {
    daemon.proc.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), STOP_BOUND_MS);
    });
    if ((await Promise.race([daemon.exited, bound]).finally(() => clearTimeout(timer))) === 'late') {
      daemon.proc.kill('SIGKILL');
      await daemon.exited;
    }
  }
  await scratch?.remove();
  await home?.restore();
}, STOP_BOUND_MS + 10_000);

describe('grpcurl against vessel serve, by reflection alone', () => {
  it('lists vessel.vm.v1.Manager, vessel.vm.v1.Instance and grpc.health.v1.Health', async () => {
    const r = await grpcurl(['list']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(expect.arrayContaining(['vessel.vm.v1.Manager', 'vessel.vm.v1.Instance', 'grpc.health.v1.Health']));
  });

  it('describes messages with the .proto field names, and map fields as maps', async () => {
    const start = await grpcurl(['describe', 'vessel.vm.v1.StartRequest']);
    expect(start.code, start.stderr).toBe(0);
    expect(start.stdout).toMatch(/^\s*string instance_id = 1;$/m);
    expect(start.stdout).toMatch(/^\s*repeated string init_args = 2;$/m);
    expect(start.stdout).not.toContain('instanceId');
    const list = await grpcurl(['describe', 'grpc.health.v1.HealthListResponse']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^\s*map<string, \.grpc\.health\.v1\.HealthCheckResponse> statuses = 1;$/m);
  });

  it('serves the descriptors protoc compiled from the .proto files, unchanged (proto/reflection.binpb)', async () => {
    const reflected = path.join(scratch.dir, 'reflected.binpb');
    const r = await grpcurl(['list'], { flags: ['-protoset-out', reflected] });
    expect(r.code, r.stderr).toBe(0);
    const want = filesOf(path.join(protoDir, 'reflection.binpb'));
    const got = filesOf(reflected);
    expect([...got.keys()].sort()).toEqual(['grpc/health/v1/health.proto', 'vessel/vm/v1/vm.proto']);
    for (const [name, file] of got) expect(file, name).toEqual(want.get(name));
  });

  it('Health/Check answers SERVING for the server and for vessel.vm.v1.Manager', async () => {
    expect(await call('grpc.health.v1.Health/Check', {})).toEqual({ status: 'SERVING' });
    expect(await call('grpc.health.v1.Health/Check', { service: 'vessel.vm.v1.Manager' })).toEqual({ status: 'SERVING' });
  });

  it('calls with proto field names reach the handlers: an unknown instance_id is NOT_FOUND, naming it', async () => {
    for (const method of ['vessel.vm.v1.Manager/GetInstance', 'vessel.vm.v1.Instance/Start']) {
      const r = await grpcurl([method], { data: { instance_id: 'nope' } });
      expect(r.stderr).not.toMatch(/no known field/);
      // grpcurl exits 64 + the status code and prints the status (-format-error) on stderr.
      expect(r.code, r.stderr).toBe(64 + 5);
      expect(JSON.parse(r.stderr), method).toEqual({ code: 5, message: expect.stringContaining('"nope"') });
    }
  });

  it(
    'boots a VM with proto field names (id, instance_id, ram_mib), lists it, then deletes it',
    async () => {
      const id = 'grpcurl-vm';
      expect(await call('vessel.vm.v1.Manager/CreateInstance', { id })).toMatchObject({ id, state: 'STATE_CREATED' });
      expect(await call('vessel.vm.v1.Instance/SetCPUAndMemory', { instance_id: id, cpu: 1, ram_mib: 192 })).toEqual({});
      const started = await call('vessel.vm.v1.Instance/Start', { instance_id: id }, BOOT / 1000);
      expect(started.info).toMatchObject({ id, state: 'STATE_RUNNING', config: { cpu: 1, ramMib: 192 } });
      const listed = await call('vessel.vm.v1.Manager/ListInstances', {});
      expect((listed.instances as Array<{ id: string; state: string }>).map((i) => [i.id, i.state])).toEqual([[id, 'STATE_RUNNING']]);
      expect(processesOf(home).filter((p) => p.comm.startsWith('qemu'))).toHaveLength(1);
      expect(await call('vessel.vm.v1.Manager/DeleteInstance', { instance_id: id })).toEqual({});
      expect(await call('vessel.vm.v1.Manager/ListInstances', {})).toEqual({});
      expect(processesOf(home).filter((p) => p.comm.startsWith('qemu'))).toEqual([]);
    },
    BOOT + 60_000,
  );
});
