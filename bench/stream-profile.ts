// Debug aid: CPU profile of the guest agent during vessel raw-stream transfers (the
// bench/stream workloads). Boots with vessel.cpuprofile=1; SIGUSR1/SIGUSR2 to PID 1 start
// and stop the agent's profile; writes PROFILE_DIR/{in,out}.pprof and mem counters.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { ensureDefaultImage } from '../src/image/index.js';
import { bootTestVm, type TestVm } from '../test/support/test-vm.js';

const BYTES = Number(process.env.BENCH_BYTES ?? 64 * 2 ** 20);
const CHUNK = 64 * 1024;
const DIR = process.env.PROFILE_DIR ?? '/tmp/vessel-prof';
let seq = 0;

async function run(vm: TestVm, args: string[]): Promise<Buffer> {
  const id = `p-${++seq}`;
  const out = await vm.agent.openStream(`${id}:out`);
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const ended = once(out, 'end');
  await vm.agent.exec({ execId: id, args, stdoutStream: `${id}:out` });
  await vm.agent.wait(id);
  await ended;
  out.end();
  return Buffer.concat(chunks);
}

function countUntil(stream: Readable, n: number): Promise<void> {
  return new Promise((resolve) => {
    let got = 0;
    const onData = (c: Buffer) => { got += c.length; if (got >= n) { stream.off('data', onData); resolve(); } };
    stream.on('data', onData);
  });
}

async function vesselIn(vm: TestVm): Promise<number> {
  const id = `in-${++seq}`;
  const s = await vm.agent.openStream(`${id}:in`);
  await vm.agent.exec({ execId: id, args: ['dd', 'of=/dev/null', 'bs=65536'], stdinStream: `${id}:in` });
  const t0 = performance.now();
  const chunk = Buffer.alloc(CHUNK, 0x5a);
  for (let sent = 0; sent < BYTES; sent += CHUNK) if (!s.write(chunk)) await once(s, 'drain');
  s.end();
  await vm.agent.wait(id);
  return BYTES / 2 ** 20 / ((performance.now() - t0) / 1000);
}

async function vesselOut(vm: TestVm): Promise<number> {
  const id = `out-${++seq}`;
  const s = await vm.agent.openStream(`${id}:out`);
  const n = BYTES / CHUNK;
  const done = countUntil(s, BYTES);
  const t0 = performance.now();
  await vm.agent.exec({ execId: id, args: ['dd', 'if=/dev/zero', 'bs=65536', `count=${n}`], stdoutStream: `${id}:out` });
  await done;
  const r = BYTES / 2 ** 20 / ((performance.now() - t0) / 1000);
  await vm.agent.wait(id);
  s.end();
  return r;
}

const image = await ensureDefaultImage();
fs.mkdirSync(DIR, { recursive: true });
const rawSocket = path.join(DIR, 'raw.sock');
fs.rmSync(rawSocket, { force: true });
const vm = await bootTestVm({ kernelPath: image.kernelPath, initrdPath: image.initrdPath, append: `vessel.cpuprofile=1 ${process.env.VM_APPEND ?? ''}`,
  qemuArgs: ['-chardev', `socket,id=raw,path=${rawSocket},server=on,wait=off`, '-device', 'virtserialport,chardev=raw,name=vessel.raw'] });
const snap = async () => (await run(vm, ['sh', '-c', 'head -1 /proc/stat; cut -d" " -f14-17 /proc/1/stat; grep -E "ctxt" /proc/stat; grep -i virtio /proc/interrupts; for t in /proc/1/task/*; do echo "$(cut -d" " -f1,14,15 $t/stat) $(grep ctxt $t/status | tr -s " \t" " " | tr "\n" " ")"; done'])).toString();
const port = (await run(vm, ['sh', '-c', 'for d in /sys/class/virtio-ports/*; do [ "$(cat $d/name)" = vessel.raw ] && echo ${d##*/}; done'])).toString().trim();
async function rawIn(): Promise<number> {
  const raw = net.connect(rawSocket); await once(raw, 'connect');
  const id = `rawin-${++seq}`;
  await vm.agent.exec({ execId: id, args: ['dd', `if=/dev/${port}`, 'of=/dev/null', 'bs=65536'] });
  const t0 = performance.now();
  const chunk = Buffer.alloc(CHUNK, 0x5a);
  for (let sent = 0; sent < BYTES; sent += CHUNK) if (!raw.write(chunk)) await once(raw, 'drain');
  raw.end();
  await vm.agent.wait(id);
  const r = BYTES / 2 ** 20 / ((performance.now() - t0) / 1000);
  raw.destroy();
  return r;
}
async function rawOut(): Promise<number> {
  const raw = net.connect(rawSocket); await once(raw, 'connect');
  const id = `rawout-${++seq}`;
  const done = countUntil(raw, BYTES);
  const t0 = performance.now();
  await vm.agent.exec({ execId: id, args: ['dd', 'if=/dev/zero', `of=/dev/${port}`, 'bs=65536', `count=${BYTES / CHUNK}`] });
  await done;
  const r = BYTES / 2 ** 20 / ((performance.now() - t0) / 1000);
  await vm.agent.wait(id);
  raw.destroy();
  return r;
}
try {
  for (const [name, fn] of [['rawin', rawIn], ['rawout', rawOut]] as const) {
    const a = await snap();
    const mibps = await fn();
    const b = await snap();
    console.log(name, mibps.toFixed(1), 'MiB/s\n--- before\n' + a + '--- after\n' + b);
  }
  await vesselIn(vm);
  for (const [name, fn] of [['in', vesselIn], ['out', vesselOut]] as const) {
    if (!process.env.NO_SIG) await run(vm, ['kill', '-USR1', '1']);
    const a = await snap();
    const mibps = await fn(vm);
    const b = await snap();
    console.log('--- before\n' + a + '--- after\n' + b);
    if (!process.env.NO_SIG) await run(vm, ['kill', '-USR2', '1']);
    await new Promise((r) => setTimeout(r, 300));
    fs.writeFileSync(path.join(DIR, `${name}.pprof`), await run(vm, ['cat', '/tmp/vessel-cpu.pprof']));
    const mem = (await run(vm, ['cat', '/tmp/vessel-mem.txt'])).toString();
    console.log(name, mibps.toFixed(1), 'MiB/s', mem.trim());
  }
  console.log((await run(vm, ['cat', '/proc/stat'])).toString().split('\n').slice(0, 1).join('\n'));
} finally {
  await vm.stop();
}
