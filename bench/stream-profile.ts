// Debug aid: CPU profile of the guest agent during vessel raw-stream transfers (the
// bench/stream workloads). Boots with vessel.cpuprofile=1; SIGUSR1/SIGUSR2 to PID 1 start
// and stop the agent's profile; writes PROFILE_DIR/{in,out}.pprof and mem counters.
import fs from 'node:fs';
import path from 'node:path';
import { ensureDefaultImage } from '../src/image/index.js';
import { bootTestVm } from '../test/support/test-vm.js';
import { findGuestPort, rawIn, rawOut, rawPortArgs, runGuestBytes, vesselIn, vesselOut } from './stream-transfers.js';

const BYTES = Number(process.env.BENCH_BYTES ?? 64 * 2 ** 20);
const DIR = process.env.PROFILE_DIR ?? '/tmp/vessel-prof';
const image = await ensureDefaultImage();
fs.mkdirSync(DIR, { recursive: true });
const rawSocket = path.join(DIR, 'raw.sock');
fs.rmSync(rawSocket, { force: true });
const vm = await bootTestVm({
  kernelPath: image.kernelPath,
  initrdPath: image.initrdPath,
  append: `vessel.cpuprofile=1 ${process.env.VM_APPEND ?? ''}`,
  qemuArgs: rawPortArgs(rawSocket, 'vessel.raw'),
});
const snap = async () =>
  (
    await runGuestBytes(vm, [
      'sh',
      '-c',
      'head -1 /proc/stat; cut -d" " -f14-17 /proc/1/stat; grep -E "ctxt" /proc/stat; grep -i virtio /proc/interrupts; for t in /proc/1/task/*; do echo "$(cut -d" " -f1,14,15 $t/stat) $(grep ctxt $t/status | tr -s " \t" " " | tr "\n" " ")"; done',
    ])
  ).toString();
const port = await findGuestPort(vm, 'vessel.raw');
const rawInRound = () => rawIn(vm, rawSocket, port, BYTES);
const rawOutRound = () => rawOut(vm, rawSocket, port, BYTES);
try {
  for (const [name, fn] of [
    ['rawin', rawInRound],
    ['rawout', rawOutRound],
  ] as const) {
    const a = await snap();
    const mibps = await fn();
    const b = await snap();
    console.log(name, mibps.toFixed(1), 'MiB/s\n--- before\n' + a + '--- after\n' + b);
  }
  await vesselIn(vm, BYTES);
  for (const [name, fn] of [
    ['in', vesselIn],
    ['out', vesselOut],
  ] as const) {
    await runGuestBytes(vm, ['rm', '-f', '/tmp/vessel-mem.txt']);
    if (!process.env.NO_SIG) await runGuestBytes(vm, ['kill', '-USR1', '1']);
    const a = await snap();
    const mibps = await fn(vm, BYTES);
    const b = await snap();
    console.log('--- before\n' + a + '--- after\n' + b);
    if (!process.env.NO_SIG) await runGuestBytes(vm, ['kill', '-USR2', '1']);
    // the agent writes the profile, then the counters file, on SIGUSR2: wait for the latter
    await runGuestBytes(vm, ['sh', '-c', 'i=0; while [ ! -s /tmp/vessel-mem.txt ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done']);
    fs.writeFileSync(path.join(DIR, `${name}.pprof`), await runGuestBytes(vm, ['cat', '/tmp/vessel-cpu.pprof']));
    const mem = (await runGuestBytes(vm, ['cat', '/tmp/vessel-mem.txt'])).toString();
    console.log(name, mibps.toFixed(1), 'MiB/s', mem.trim());
  }
  console.log((await runGuestBytes(vm, ['cat', '/proc/stat'])).toString().split('\n').slice(0, 1).join('\n'));
} finally {
  await vm.stop();
}
