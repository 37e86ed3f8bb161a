// The transfers bench/stream measures (and bench/stream-profile profiles): bytes through a
// vessel raw stream or through raw virtio-serial, each way, with `dd bs=64k` on the guest
// side. Each returns MiB/s.
import net from 'node:net';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
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
  const id = `sh-${++seq}`;
  const out = await vm.agent.openStream(`${id}:out`);
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const ended = once(out, 'end');
  await vm.agent.exec({ execId: id, args, stdoutStream: `${id}:out` });
  const status = await vm.agent.wait(id);
  await ended;
  out.end();
  if (status.exitCode !== 0) throw new Error(`${args.join(' ')} exited ${status.exitCode}`);
  return Buffer.concat(chunks);
}

/** vessel, host→guest: `bytes` into a guest `dd of=/dev/null` through a raw stream (EOF = our FIN). */
export async function vesselIn(vm: TestVm, bytes: number): Promise<number> {
  const id = `in-${++seq}`;
  const s = await vm.agent.openStream(`${id}:in`);
  await vm.agent.exec({ execId: id, args: ['dd', 'of=/dev/null', 'bs=65536'], stdinStream: `${id}:in` });
  const t0 = performance.now();
  await writeBytes(s, bytes);
  s.end();
  await vm.agent.wait(id);
  return bytes / 2 ** 20 / ((performance.now() - t0) / 1000);
}

/** vessel, guest→host: a guest `dd if=/dev/zero` into our raw stream. */
export async function vesselOut(vm: TestVm, bytes: number): Promise<number> {
  const blocks = Math.ceil(bytes / CHUNK);
  const id = `out-${++seq}`;
  const s = await vm.agent.openStream(`${id}:out`);
  const done = countUntil(s, blocks * CHUNK);
  const t0 = performance.now();
  await vm.agent.exec({ execId: id, args: ['dd', 'if=/dev/zero', 'bs=65536', `count=${blocks}`], stdoutStream: `${id}:out` });
  await done;
  const mibps = bytes / 2 ** 20 / ((performance.now() - t0) / 1000);
  await vm.agent.wait(id);
  s.end();
  return mibps;
}

/** raw virtio-serial, host→guest: our bytes into `dd if=<port> of=/dev/null`; EOF = we disconnect. */
export async function rawIn(vm: TestVm, rawSocket: string, port: string, bytes: number): Promise<number> {
  const raw = net.connect(rawSocket);
  await once(raw, 'connect');
  const id = `rawin-${++seq}`;
  await vm.agent.exec({ execId: id, args: ['dd', `if=/dev/${port}`, 'of=/dev/null', 'bs=65536'] });
  const t0 = performance.now();
  await writeBytes(raw, bytes);
  raw.end();
  await vm.agent.wait(id);
  const mibps = bytes / 2 ** 20 / ((performance.now() - t0) / 1000);
  raw.destroy();
  return mibps;
}

/** raw virtio-serial, guest→host: `dd if=/dev/zero of=<port>` read from the raw socket. */
export async function rawOut(vm: TestVm, rawSocket: string, port: string, bytes: number): Promise<number> {
  const blocks = Math.ceil(bytes / CHUNK);
  const raw = net.connect(rawSocket);
  await once(raw, 'connect');
  const id = `rawout-${++seq}`;
  const done = countUntil(raw, blocks * CHUNK);
  const t0 = performance.now();
  await vm.agent.exec({ execId: id, args: ['dd', 'if=/dev/zero', `of=/dev/${port}`, 'bs=65536', `count=${blocks}`] });
  await done;
  const mibps = bytes / 2 ** 20 / ((performance.now() - t0) / 1000);
  await vm.agent.wait(id);
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
