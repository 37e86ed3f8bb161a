// A minimal QEMU (TCG) launcher for tests that boot the real guest image — the full backend
// is src/vm (issue 4). QEMU runs under `setpriv --pdeathsig KILL`, so it dies with the test
// process even if that crashes; stop() kills and reaps it and removes the VM's directory.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { MuxSession } from '../../src/mux/index.js';
import { AgentClient } from '../../src/agent/index.js';
import { connectUnixSocket } from '../../src/transport/index.js';
import { TCG_CPU_MODEL } from '../../src/vm/qemu/command-line.js';
import type { Accelerator } from '../../src/vm/qemu/index.js';
import { makePrivateTempDir } from './tmpdir.js';

export interface TestVmOptions {
  kernelPath: string;
  initrdPath: string;
  memoryMiB?: number;
  cpus?: number;
  machine?: 'microvm' | 'q35';
  /** Default tcg, so tests behave alike on every host; under kvm the CPU model is `host`, as QemuManager's. */
  accelerator?: Accelerator;
  /** Extra kernel command line (appended). */
  append?: string;
  /** Extra QEMU arguments (devices). */
  qemuArgs?: string[];
}

export interface TestVmProcess {
  readonly dir: string;
  readonly agentSocket: string;
  readonly qemu: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly startedAt: number;
  /** Everything the guest printed on its serial console so far (tail, bounded). */
  console(): string;
  /** Resolves when the console shows `text`. */
  waitForConsole(text: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface TestVm extends TestVmProcess {
  readonly session: MuxSession;
  readonly agent: AgentClient;
  /** QEMU spawn → first Ping answered, in ms. */
  readonly bootMs: number;
}

/** Host CPU frequency in kHz for `tsc_early_khz` (machine.md pitfall 1). */
export function hostTscKhz(): number {
  const line = fs
    .readFileSync('/proc/cpuinfo', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('cpu MHz'));
  const mhz = line ? Number(line.split(':')[1]) : NaN;
  if (!Number.isFinite(mhz) || mhz <= 0) throw new Error('cannot read cpu MHz from /proc/cpuinfo');
  return Math.round(mhz * 1000);
}

/**
 * The TCG CPU model: `max` without ERMS and FSRM. With either, the guest kernel copies
 * (and Go's runtime moves unaligned blocks) with `rep movsb`, which TCG executes one byte
 * per iteration; without them the kernel uses `rep movsq` and Go its AVX loops. Measured
 * here: boot to READY ~2.7 → ~2.15 s, raw-stream throughput about 2.5× (AVX matters too:
 * `qemu64` or `avx=off` halve it again). VESSEL_TEST_CPU overrides it for experiments.
 */
export function testCpuModel(): string {
  return process.env.VESSEL_TEST_CPU ?? TCG_CPU_MODEL;
}

export function qemuArgs(opts: TestVmOptions, agentSocket: string): string[] {
  const mem = opts.memoryMiB ?? 256;
  const machine = opts.machine ?? 'microvm';
  const append = `console=ttyS0 panic=-1 quiet tsc_early_khz=${hostTscKhz()} cryptomgr.notests ${opts.append ?? ''}`.trim();
  const common = [
    '-accel',
    opts.accelerator ?? 'tcg',
    '-cpu',
    opts.accelerator === 'kvm' ? 'host' : testCpuModel(),
    '-m',
    String(mem),
    '-smp',
    String(opts.cpus ?? 1),
    '-object',
    `memory-backend-memfd,id=mem,size=${mem}M,share=on`,
    '-nodefaults',
    '-no-user-config',
    '-nographic',
    '-no-reboot',
    '-serial',
    'stdio',
    '-kernel',
    opts.kernelPath,
    '-initrd',
    opts.initrdPath,
    '-append',
    append,
    '-chardev',
    `socket,id=agent,path=${agentSocket},server=on,wait=off`,
  ];
  if (machine === 'microvm') {
    return [
      '-M',
      'microvm,x-option-roms=off,isa-serial=on,rtc=on,acpi=on,memory-backend=mem',
      '-global',
      'virtio-mmio.force-legacy=false',
      ...common,
      '-device',
      'virtio-serial-device',
      '-device',
      'virtserialport,chardev=agent,name=vessel.agent',
      ...(opts.qemuArgs ?? []),
    ];
  }
  return [
    '-M',
    'q35,memory-backend=mem',
    ...common,
    '-device',
    'virtio-serial-pci',
    '-device',
    'virtserialport,chardev=agent,name=vessel.agent',
    ...(opts.qemuArgs ?? []),
  ];
}

/** Starts QEMU; does not talk to the guest. */
export async function startQemu(opts: TestVmOptions): Promise<TestVmProcess> {
  const tmp = await makePrivateTempDir('vm');
  const agentSocket = path.join(tmp.dir, 'agent.sock');
  const startedAt = performance.now();
  const qemu = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'qemu-system-x86_64', ...qemuArgs(opts, agentSocket)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let consoleText = '';
  const consoleWaiters = new Set<() => void>();
  const onOutput = (chunk: Buffer) => {
    consoleText = (consoleText + chunk.toString('utf8')).slice(-256 * 1024);
    for (const w of consoleWaiters) w();
  };
  qemu.stdout!.on('data', onOutput);
  qemu.stderr!.on('data', onOutput);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    qemu.once('exit', (code, signal) => resolve({ code, signal }));
    qemu.once('error', () => resolve({ code: null, signal: null }));
  });
  let stopped = false;
  const vm: TestVmProcess = {
    dir: tmp.dir,
    agentSocket,
    qemu,
    exited,
    startedAt,
    console: () => consoleText,
    waitForConsole(text: string, timeoutMs = 60_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!consoleText.includes(text)) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`console never showed ${JSON.stringify(text)}:\n${consoleText.slice(-4000)}`));
        }, timeoutMs);
        const onExit = () => {
          cleanup();
          reject(new Error(`QEMU exited before the console showed ${JSON.stringify(text)}:\n${consoleText.slice(-4000)}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          consoleWaiters.delete(check);
          qemu.off('exit', onExit);
        };
        consoleWaiters.add(check);
        qemu.once('exit', onExit);
        check();
      });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (qemu.exitCode === null && qemu.signalCode === null) qemu.kill('SIGKILL');
      await exited;
      await tmp.remove();
    },
  };
  return vm;
}

/**
 * Connects to a unix socket QEMU serves (retrying while QEMU binds it: src/transport),
 * until `deadline` (epoch ms) or until QEMU exits; the error then carries the console.
 */
export async function connectQemuSocket(vm: TestVmProcess, socketPath: string, deadline: number): Promise<net.Socket> {
  try {
    return await connectUnixSocket(socketPath, { deadline, alive: () => vm.qemu.exitCode === null && vm.qemu.signalCode === null, what: socketPath });
  } catch (err) {
    throw new Error(`${(err as Error).message}:\n${vm.console().slice(-4000)}`, { cause: err });
  }
}

/** Boots the guest and connects to its agent; resolves once Ping is answered. */
export async function bootTestVm(opts: TestVmOptions, timeoutMs = 120_000): Promise<TestVm> {
  const vm = await startQemu(opts);
  try {
    const deadline = Date.now() + timeoutMs;
    const socket = await connectQemuSocket(vm, vm.agentSocket, deadline);
    const session = new MuxSession(socket, { role: 'client' });
    const agent = await AgentClient.connect(session);
    const died = vm.exited.then(({ code }) => {
      throw new Error(`QEMU exited (${code}) before the agent answered:\n${vm.console().slice(-4000)}`);
    });
    died.catch(() => undefined);
    await Promise.race([agent.ping({ timeoutMs: Math.max(1, deadline - Date.now()) }), died]);
    const bootMs = performance.now() - vm.startedAt;
    const stop = vm.stop;
    return Object.assign(vm, {
      session,
      agent,
      bootMs,
      async stop() {
        agent.close();
        session.destroy();
        await stop();
      },
    });
  } catch (err) {
    await vm.stop();
    throw err;
  }
}
