// The transfers bench/stream measures (and bench/stream-profile profiles): bytes through a
// vessel raw stream or through raw virtio-serial, each way, with `dd bs=64k` on the guest
// side. Each returns MiB/s, and throws unless dd exited 0 having copied every byte and the
// host received every byte dd wrote.
import net from 'node:net';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { execWithStreams, type ExitStatus } from '../src/agent/index.js';
import type { TestVm } from '../test/support/test-vm.js';

const CHUNK = 64 * 1024;
let seq = 0;

export async function writeBytes(stream: Writable, n: number): Promise<void> {
  const chunk = Buffer.alloc(CHUNK, 0x5a);
  for (let sent = 0; sent < n; sent += CHUNK) {
    if (!stream.write(sent + CHUNK <= n ? chunk : chunk.subarray(0, n - sent))) await once(stream, 'drain');
  }
}

export function countUntil(stream: Readable, n: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let got = 0;
    const onData = (c: Buffer) => {
      got += c.length;
      if (got >= n) {
        stream.off('data', onData);
        resolve();
      }
    };
    stream.on('data', onData);
    stream.once('error', reject);
    stream.once('close', () => got < n && reject(new Error(`stream closed after ${got} of ${n} bytes`)));
  });
}

/** Runs args in the guest, returns its stdout (trimmed text); fails on a non-zero exit. */
export async function runGuest(vm: TestVm, args: string[]): Promise<string> {
  return (await runGuestBytes(vm, args)).toString().trim();
}

export async function runGuestBytes(vm: TestVm, args: string[]): Promise<Buffer> {
  const exec = await execWithStreams(vm.agent, { execId: `sh-${++seq}`, args }, { stdout: 'open' });
  const chunks: Buffer[] = [];
  exec.stdout!.on('data', (c: Buffer) => chunks.push(c));
  const status = await exec.exited;
  exec.close();
  if (status.exitCode !== 0) throw new Error(`${args.join(' ')} exited ${status.exitCode}`);
  return Buffer.concat(chunks);
}

/** Everything a stream carries, as text, once it has ended (stderr of a guest dd). */
function collectText(stream: Readable): () => string {
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return () => Buffer.concat(chunks).toString();
}

/**
 * Throws unless a guest dd exited 0 and its summary on stderr says it copied `bytes`. The
 * guest's busybox dd reports records, not bytes ("N+P records in/out": N full blocks, P
 * partial), so readers run with iflag=fullblock: then `bytes` is exactly N full blocks and
 * one partial block if it is not a multiple of the block size. A transfer that moved less,
 * or a dd that failed, is no figure.
 */
function expectDdCopied(what: string, status: ExitStatus, stderr: string, bytes: number): void {
  if (status.exitCode !== 0 || status.signal) {
    throw new Error(`${what}: guest dd exited ${status.exitCode} (signal ${status.signal}): ${stderr.trim()}`);
  }
  const want = `${Math.floor(bytes / CHUNK)}+${bytes % CHUNK === 0 ? 0 : 1}`;
  for (const dir of ['in', 'out']) {
    const got = new RegExp(`^(\\d+\\+\\d+) records ${dir}$`, 'm').exec(stderr)?.[1];
    if (got !== want)
      throw new Error(`${what}: guest dd reports ${got ?? 'no'} records ${dir}, ${want} of ${CHUNK} bytes for ${bytes} bytes: ${stderr.trim()}`);
  }
}

/** Counts a stream's bytes; `total()` is final once the stream has ended. */
function byteCounter(stream: Readable): { reached(n: number): Promise<void>; total(): number } {
  let got = 0;
  stream.on('data', (c: Buffer) => {
    got += c.length;
  });
  return { reached: (n) => countUntil(stream, n), total: () => got };
}

/** vessel, host→guest: `bytes` into a guest `dd of=/dev/null` through a raw stream (EOF = our FIN). */
export async function vesselIn(vm: TestVm, bytes: number): Promise<number> {
  const exec = await execWithStreams(
    vm.agent,
    { execId: `in-${++seq}`, args: ['dd', 'of=/dev/null', 'bs=65536', 'iflag=fullblock'] },
    { stdin: 'open', stderr: 'open' },
  );
  const stderr = collectText(exec.stderr!);
  const t0 = performance.now();
  await writeBytes(exec.stdin!, bytes);
  await exec.closeStdin();
  const status = await exec.exited;
  const mibps = bytes / 2 ** 20 / ((performance.now() - t0) / 1000);
  exec.close();
  expectDdCopied('vessel host→guest', status, stderr(), bytes);
  return mibps;
}

/** vessel, guest→host: a guest `dd if=/dev/zero` into our raw stream (the clock starts before the stream is opened). */
export async function vesselOut(vm: TestVm, bytes: number): Promise<number> {
  const blocks = Math.ceil(bytes / CHUNK);
  const moved = blocks * CHUNK;
  const t0 = performance.now();
  const exec = await execWithStreams(
    vm.agent,
    { execId: `out-${++seq}`, args: ['dd', 'if=/dev/zero', 'bs=65536', `count=${blocks}`] },
    { stdout: 'open', stderr: 'open' },
  );
  const stderr = collectText(exec.stderr!);
  const received = byteCounter(exec.stdout!);
  await received.reached(moved);
  const mibps = moved / 2 ** 20 / ((performance.now() - t0) / 1000);
  const status = await exec.exited;
  exec.close();
  expectDdCopied('vessel guest→host', status, stderr(), moved);
  if (received.total() !== moved) throw new Error(`vessel guest→host: received ${received.total()} bytes, dd sent ${moved}`);
  return mibps;
}

/** Starts dd in the guest with only stderr open; `finished()` checks it copied `bytes`. */
async function guestDd(vm: TestVm, id: string, what: string, args: string[]) {
  const exec = await execWithStreams(vm.agent, { execId: id, args: ['dd', ...args] }, { stderr: 'open' });
  const stderr = collectText(exec.stderr!);
  return {
    exited: exec.exited,
    async finished(bytes: number): Promise<void> {
      const status = await exec.exited;
      exec.close();
      expectDdCopied(what, status, stderr(), bytes);
    },
  };
}

/** raw virtio-serial, host→guest: our bytes into `dd if=<port> of=/dev/null`; EOF = we disconnect. */
export async function rawIn(vm: TestVm, rawSocket: string, port: string, bytes: number): Promise<number> {
  const raw = net.connect(rawSocket);
  await once(raw, 'connect');
  const dd = await guestDd(vm, `rawin-${++seq}`, 'raw host→guest', [`if=/dev/${port}`, 'of=/dev/null', 'bs=65536', 'iflag=fullblock']);
  const t0 = performance.now();
  await writeBytes(raw, bytes);
  raw.end();
  await dd.exited;
  const mibps = bytes / 2 ** 20 / ((performance.now() - t0) / 1000);
  raw.destroy();
  await dd.finished(bytes);
  return mibps;
}

/** raw virtio-serial, guest→host: `dd if=/dev/zero of=<port>` read from the raw socket. */
export async function rawOut(vm: TestVm, rawSocket: string, port: string, bytes: number): Promise<number> {
  const blocks = Math.ceil(bytes / CHUNK);
  const moved = blocks * CHUNK;
  const raw = net.connect(rawSocket);
  await once(raw, 'connect');
  const received = byteCounter(raw);
  const done = received.reached(moved);
  const t0 = performance.now();
  const dd = await guestDd(vm, `rawout-${++seq}`, 'raw guest→host', ['if=/dev/zero', `of=/dev/${port}`, 'bs=65536', `count=${blocks}`]);
  await done;
  const mibps = moved / 2 ** 20 / ((performance.now() - t0) / 1000);
  await dd.finished(moved);
  raw.destroy();
  if (received.total() !== moved) throw new Error(`raw guest→host: received ${received.total()} bytes, dd sent ${moved}`);
  return mibps;
}

/** The guest device name (e.g. vport1p1) of the virtio-serial port called `name`. */
export async function findGuestPort(vm: TestVm, name: string): Promise<string> {
  const port = await runGuest(vm, ['sh', '-c', `for d in /sys/class/virtio-ports/*; do [ "$(cat $d/name)" = ${name} ] && echo \${d##*/}; done`]);
  if (!port) throw new Error(`guest has no ${name} port`);
  return port;
}

/** QEMU arguments for a second virtio-serial port `name` served on `socketPath`. */
export function rawPortArgs(socketPath: string, name: string): string[] {
  return ['-chardev', `socket,id=raw,path=${socketPath},server=on,wait=off`, '-device', `virtserialport,chardev=raw,name=${name}`];
}
