// vessel serve's gRPC API from a grpc-js client: error codes at the edge, and on one real
// VM the streaming contracts — flow control end to end (a client that stops reading stalls
// the guest writer; the daemon's memory stays bounded), a client that goes away mid-Exec
// gets its process killed, Console and Watch. (Python and Go clients: test/interop-grpc.)
import crypto from 'node:crypto';
import { QemuManager } from '../../src/vm/index.js';
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { status as Status, type ClientDuplexStream } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VesselDaemon } from '../../src/api/index.js';
import { guestWriterStalled } from '../support/guest-exec.js';
import { MemoryProbe } from '../support/memory-probe.js';
import { call, callError, vmClients, type VmClients } from '../support/grpc-client.js';
import { makePrivateTempDir } from '../support/tmpdir.js';
import { waitFor } from '../support/wait-for.js';

let tmp: { dir: string; remove: () => Promise<void> };
let daemon: VesselDaemon;
let c: VmClients;
let share: string;

function finished(stream: ClientDuplexStream<any, any> | NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
  });
}

beforeAll(async () => {
  tmp = await makePrivateTempDir('daemon');
  share = path.join(tmp.dir, 'share');
  fs.mkdirSync(share);
  fs.writeFileSync(path.join(share, 'f.txt'), 'from the host\n');
  daemon = new VesselDaemon({ socketPath: path.join(tmp.dir, 'vessel.sock'), instancesDir: path.join(tmp.dir, 'instances'), manager: new QemuManager() });
  await daemon.listen();
  c = vmClients(daemon.socketPath);
});

afterAll(async () => {
  c?.close();
  await daemon?.stop();
  await tmp?.remove();
});

describe('errors at the edge', () => {
  it('the socket is private', () => {
    expect(fs.statSync(daemon.socketPath).mode & 0o777).toBe(0o600);
  });

  it('each bad request gets its code, a message that says what to fix, and the vessel code trailer', async () => {
    await call(c.manager, 'CreateInstance', { id: 'errs' });
    const cases: Array<[any, string, Record<string, unknown>, Status, RegExp]> = [
      [c.manager, 'CreateInstance', { id: 'Bad Id' }, Status.INVALID_ARGUMENT, /instance id must match/],
      [c.manager, 'CreateInstance', { id: 'errs' }, Status.ALREADY_EXISTS, /already exists/],
      [c.manager, 'GetInstance', { instanceId: 'nope' }, Status.NOT_FOUND, /no instance "nope"/],
      [c.instance, 'SetCPUAndMemory', { instanceId: 'errs', cpu: 0, ramMib: 256 }, Status.INVALID_ARGUMENT, /cpu count/],
      [c.instance, 'SetCPUAndMemory', { instanceId: 'errs', cpu: 1, ramMib: 32 }, Status.INVALID_ARGUMENT, /at least 128/],
      [c.instance, 'AddFS', { instanceId: 'errs', tag: 'a/b', hostPath: share }, Status.INVALID_ARGUMENT, /tag/],
      [c.instance, 'AddFS', { instanceId: 'errs', tag: 'x', hostPath: path.join(tmp.dir, 'missing') }, Status.INVALID_ARGUMENT, /does not exist/],
      [
        c.instance,
        'AddNIC',
        { instanceId: 'errs', endpoint: daemon.socketPath, mac: '01:00:00:00:00:01', mode: 'NETWORK_MODE_UNIXSTREAM' },
        Status.INVALID_ARGUMENT,
        /multicast/,
      ],
      [c.instance, 'AddNIC', { instanceId: 'errs', endpoint: daemon.socketPath, mac: '52:54:00:00:00:01' }, Status.INVALID_ARGUMENT, /mode must be/],
      [c.instance, 'Shutdown', { instanceId: 'nope' }, Status.NOT_FOUND, /nope/],
    ];
    for (const [client, method, req, code, message] of cases) {
      const err = await callError(client, method, req);
      expect({ method, code: err.code }).toEqual({ method, code });
      expect(err.details).toMatch(message);
    }
    await call(c.instance, 'AddFS', { instanceId: 'errs', tag: 'data', hostPath: share });
    const dup = await callError(c.instance, 'AddFS', { instanceId: 'errs', tag: 'data', hostPath: share });
    expect(dup.code).toBe(Status.ALREADY_EXISTS);
    expect(dup.metadata.get('vessel-error-code')).toEqual(['ALREADY_EXISTS']);
  });

  it('Exec and StartStream before start fail with FAILED_PRECONDITION', async () => {
    const exec = c.instance.Exec();
    exec.write({ start: { instanceId: 'errs', args: ['true'] } });
    const execErr = await finished(exec).then(
      () => undefined,
      (e: any) => e,
    );
    expect(execErr).toMatchObject({ code: Status.FAILED_PRECONDITION, details: expect.stringMatching(/not been started/) });
    const stream = c.instance.StartStream();
    stream.write({ instanceId: 'errs', streamId: 's1' });
    const streamErr = await finished(stream).then(
      () => undefined,
      (e: any) => e,
    );
    expect(streamErr).toMatchObject({ code: Status.FAILED_PRECONDITION });
    await call(c.manager, 'DeleteInstance', { instanceId: 'errs' });
    expect((await callError(c.manager, 'GetInstance', { instanceId: 'errs' })).code).toBe(Status.NOT_FOUND);
  });
});

describe('a running instance over gRPC', () => {
  const id = 'vm1';
  let watch: any;
  let watchDone: Promise<void>;
  const events: string[] = [];

  beforeAll(async () => {
    await call(c.manager, 'CreateInstance', { id });
    await call(c.instance, 'AddFS', { instanceId: id, tag: 'data', hostPath: share });
    watch = c.instance.Watch({ instanceId: id });
    watch.on('data', (e: any) => events.push(e.state));
    watchDone = finished(watch);
    const started = await call(c.instance, 'Start', { instanceId: id });
    expect(started.info.state).toBe('STATE_RUNNING');
    expect(started.guestTimeline.map((e: any) => e.name)).toContain('ready');
    expect((await callError(c.instance, 'AddFS', { instanceId: id, tag: 'late', hostPath: share })).code).toBe(Status.FAILED_PRECONDITION);
  }, 240_000);

  it('Exec: stdout, stderr, exit code and stdin as messages', async () => {
    const exec = c.instance.Exec();
    let out = '';
    let err = '';
    let exit: any;
    exec.on('data', (m: any) => {
      if (m.msg === 'stdout') out += m.stdout;
      if (m.msg === 'stderr') err += m.stderr;
      if (m.msg === 'exit') exit = m.exit;
    });
    const execDone = finished(exec);
    exec.write({ start: { instanceId: id, args: ['/bin/sh', '-c', 'cat /mnt/data/f.txt; tr a-z A-Z; echo oops >&2; exit 3'], stdin: true } });
    exec.write({ stdin: Buffer.from('piped in\n') });
    exec.end();
    await execDone;
    expect(out).toBe('from the host\nPIPED IN\n');
    expect(err).toBe('oops\n');
    expect(exit).toMatchObject({ exitCode: 3, signal: 0 });
  });

  it('Exec: a process the guest OOM killer ends says so (137, oom_killed)', async () => {
    const exec = c.instance.Exec();
    let exit: any;
    exec.on('data', (m: any) => {
      if (m.msg === 'exit') exit = m.exit;
    });
    const execDone = finished(exec);
    // one allocation 16 MiB beyond the workloads' memory.max
    const hog = 'exec dd if=/dev/zero of=/dev/null bs=$(( $(cat /sys/fs/cgroup/vessel/memory.max) / 1048576 + 16 ))M count=1';
    exec.write({ start: { instanceId: id, args: ['/bin/sh', '-c', hog] } });
    exec.end();
    await execDone;
    expect(exit).toMatchObject({ exitCode: 137, signal: 9, oomKilled: true });
  });

  it('a client that stops reading StartStream stalls the guest writer; daemon memory stays bounded; all bytes arrive after', async () => {
    const total = 96 * 1024 * 1024;
    const stream = c.instance.StartStream();
    stream.write({ instanceId: id, streamId: 'flood' });
    let received = 0;
    stream.on('data', (m: any) => {
      received += m.data.length;
    });
    const streamDone = finished(stream);
    stream.pause();
    const exec = c.instance.Exec();
    let exit: any;
    exec.on('data', (m: any) => {
      if (m.msg === 'exit') exit = m.exit;
    });
    const execDone = finished(exec);
    exec.write({ start: { instanceId: id, args: ['dd', 'if=/dev/zero', 'bs=65536', `count=${total / 65536}`], stdoutStream: 'flood' } });
    const probe = new MemoryProbe(50);
    // With the client not reading, the pipeline fills and dd stops early, still running.
    const written = await guestWriterStalled(daemon.registry.get(id).instance, 'dd');
    const figure = probe.stop();
    expect(exit).toBeUndefined();
    expect(written).toBeLessThan(32 * 2 ** 20); // of the 96 MiB the guest wants to send
    expect(figure.growthMiB).toBeLessThan(32);
    stream.resume();
    await execDone;
    stream.end();
    await streamDone;
    expect(exit).toMatchObject({ exitCode: 0 });
    expect(received).toBe(total);
  });

  it('a client that stops reading Exec output stalls the guest writer too', async () => {
    const total = 64 * 1024 * 1024;
    const exec = c.instance.Exec();
    let stdout = 0;
    let exit: any;
    exec.on('data', (m: any) => {
      if (m.msg === 'stdout') stdout += m.stdout.length;
      if (m.msg === 'exit') exit = m.exit;
    });
    const execDone = finished(exec);
    exec.pause();
    exec.write({ start: { instanceId: id, args: ['dd', 'if=/dev/zero', 'bs=65536', `count=${total / 65536}`] } });
    const probe = new MemoryProbe(50);
    // (the paused call shows us nothing, so ask the guest: dd stops early, still running)
    const written = await guestWriterStalled(daemon.registry.get(id).instance, 'dd');
    const figure = probe.stop();
    expect(written).toBeLessThan(32 * 2 ** 20); // of the 64 MiB
    expect(figure.growthMiB).toBeLessThan(32);
    exec.resume();
    exec.end();
    await execDone;
    expect(exit).toMatchObject({ exitCode: 0 });
    expect(stdout).toBe(total);
  });

  it('a client that goes away mid-Exec gets its guest process killed', async () => {
    const exec = c.instance.Exec();
    const started = new Promise<any>((resolve) =>
      exec.on('data', (m: any) => {
        if (m.msg === 'started') resolve(m.started);
      }),
    );
    exec.on('error', () => undefined);
    exec.write({ start: { instanceId: id, args: ['sleep', '1000'] } });
    const { execId } = await started;
    exec.cancel();
    const agent = daemon.registry.get(id).instance.client();
    const status = await agent.wait(execId);
    expect(status.signal).toBe(9);
  });

  it('StartStream carries 16 MiB both ways through cat, intact', async () => {
    const stream = c.instance.StartStream();
    stream.write({ instanceId: id, streamId: 'echo' });
    const payload = crypto.randomBytes(16 * 1024 * 1024);
    const hash = crypto.createHash('sha256');
    let n = 0;
    stream.on('data', (m: any) => {
      hash.update(m.data);
      n += m.data.length;
    });
    const streamDone = finished(stream);
    const exec = c.instance.Exec();
    exec.on('data', () => undefined);
    const execDone = finished(exec);
    exec.write({ start: { instanceId: id, args: ['cat'], stdinStream: 'echo', stdoutStream: 'echo' } });
    exec.end();
    for (let i = 0; i < payload.length; i += 256 * 1024) {
      if (!stream.write({ data: payload.subarray(i, i + 256 * 1024) })) await once(stream, 'drain');
    }
    stream.end();
    await Promise.all([streamDone, execDone]);
    expect(n).toBe(payload.length);
    expect(hash.digest('hex')).toBe(crypto.createHash('sha256').update(payload).digest('hex'));
  });

  it('Console returns the boot log; Watch reports the states through shutdown', async () => {
    const consoleCall = c.instance.Console({ instanceId: id, follow: false });
    let text = '';
    consoleCall.on('data', (m: any) => {
      text += m.data.toString();
    });
    await finished(consoleCall);
    expect(text.length).toBeGreaterThan(0);
    await call(c.instance, 'Shutdown', { instanceId: id });
    await watchDone;
    expect(events).toEqual(['STATE_CREATED', 'STATE_STARTING', 'STATE_RUNNING', 'STATE_STOPPING', 'STATE_STOPPED']);
    const info = await call(c.manager, 'GetInstance', { instanceId: id });
    expect(info.state).toBe('STATE_STOPPED');
    await call(c.manager, 'DeleteInstance', { instanceId: id });
    await waitFor(() => !fs.existsSync(path.join(tmp.dir, 'instances', id)), 'the state dir to be removed', 1000);
  });
});
