// The transfers bench/stream measures (and bench/stream-profile profiles): bytes through a
// vessel raw stream or through raw virtio-serial, each way, with `dd bs=64k` on the guest
// side. Each returns MiB/s.
import net from 'node:net';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { execWithStreams } from '../src/agent/index.js';
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

/** vessel, host→guest: `bytes` into a guest `dd of=/dev/null` through a raw stream (EOF = our FIN). */
export async function vesselIn(vm: TestVm, bytes: number): Promise<number> {
  const exec = await execWithStreams(vm.agent, { execId: `in-${++seq}`, args: ['dd', 'of=/dev/null', 'bs=65536'] }, { stdin: 'open' });
  const t0 = performance.now();
  await writeBytes(exec.stdin!, bytes);
  await exec.closeStdin();
  await exec.exited;
  const mibps = bytes / 2 ** 20 / ((performance.now() - t0) / 1000);
  exec.close();
  return mibps;
}

/** vessel, guest→host: a guest `dd if=/dev/zero` into our raw stream (the clock starts before the stream is opened). */
export async function vesselOut(vm: TestVm, bytes: number): Promise<number> {
  const blocks = Math.ceil(bytes / CHUNK);
  const t0 = performance.now();
  const exec = await execWithStreams(vm.agent, { execId: `out-${++seq}`, args: ['dd', 'if=/dev/zero', 'bs=65536', `count=${blocks}`] }, { stdout: 'open' });
  await countUntil(exec.stdout!, blocks * CHUNK);
  const mibps = bytes / 2 ** 20 / ((performance.now() - t0) / 1000);
  await exec.exited;
  exec.close();
  return mibps;
}

/** Starts `args` in the guest without stdio; resolves with the exec (its exit in `exited`). */
function guestCommand(vm: TestVm, id: string, args: string[]) {
  return execWithStreams(vm.agent, { execId: id, args });
}

/** raw virtio-serial, host→guest: our bytes into `dd if=<port> of=/dev/null`; EOF = we disconnect. */
export async function rawIn(vm: TestVm, rawSocket: string, port: string, bytes: number): Promise<number> {
  const raw = net.connect(rawSocket);
  await once(raw, 'connect');
  const exec = await guestCommand(vm, `rawin-${++seq}`, ['dd', `if=/dev/${port}`, 'of=/dev/null', 'bs=65536']);
  const t0 = performance.now();
  await writeBytes(raw, bytes);
  raw.end();
  await exec.exited;
  const mibps = bytes / 2 ** 20 / ((performance.now() - t0) / 1000);
  raw.destroy();
  return mibps;
}

/** raw virtio-serial, guest→host: `dd if=/dev/zero of=<port>` read from the raw socket. */
export async function rawOut(vm: TestVm, rawSocket: string, port: string, bytes: number): Promise<number> {
  const blocks = Math.ceil(bytes / CHUNK);
  const raw = net.connect(rawSocket);
  await once(raw, 'connect');
  const done = countUntil(raw, blocks * CHUNK);
  const t0 = performance.now();
  const exec = await guestCommand(vm, `rawout-${++seq}`, ['dd', 'if=/dev/zero', `of=/dev/${port}`, 'bs=65536', `count=${blocks}`]);
  await done;
  const mibps = bytes / 2 ** 20 / ((performance.now() - t0) / 1000);
  await exec.exited;
  raw.destroy();
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
