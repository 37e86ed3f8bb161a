// The QEMU command line for one VM, built from a launch plan (pure: no I/O). Follows
// machine.md: microvm with its fixes (x-option-roms=off, isa-serial, rtc=on, acpi=on,
// force-legacy=false, tsc_early_khz) by default, q35 selectable; memory is a shared memfd
// because vhost-user-fs and vhost-user-vsock need it. The guest console is the serial port on a unix socket
// QEMU serves (like QMP and the agent port), so a VM can outlive the process reading it and
// a later one reconnect (live restore); QEMU starts with its vCPUs stopped (-S) and vessel
// lets them run (QMP cont) once it reads the console, so no output is lost. A pvpanic
// device reports a guest kernel panic, and QEMU then exits with status 1 (guest-panic.ts).
// A VM restored from a snapshot (restore.ts) waits for its state (-incoming defer), and
// may map its RAM from the snapshot's file, privately (clones never write the snapshot).
import type { Accelerator } from './accelerator.js';
import { featureProperties } from '../nic-features.js';

export type MachineType = 'microvm' | 'q35';

/**
 * The TCG CPU model: everything TCG emulates except ERMS and FSRM. With them the guest
 * kernel copies with `rep movsb`, which TCG runs a byte at a time: without them a floor
 * boot went from ~2.7 s to ~2.15 s and streams got ~2.5x faster (README, bench/boot and
 * bench/stream). Go's memmove uses AVX, so AVX stays (qemu64 or avx=off halved streams).
 */
export const TCG_CPU_MODEL = 'max,erms=off,fsrm=off';

export interface PlannedShare {
  tag: string;
  socketPath: string;
}
export interface PlannedDisk {
  blockId: string;
  path: string;
  format: 'raw' | 'vmdk';
  readOnly: boolean;
}
export type PlannedNic =
  | { mac: string; mode: 'unixstream'; endpoint: string; features: number | undefined }
  | { mac: string; mode: 'unixstream'; fd: number; features: number | undefined }
  | { mac: string; mode: 'unixgram'; endpoint: string; localPath: string; features: number | undefined };

export interface LaunchPlan {
  machine: MachineType;
  accelerator: Accelerator;
  /** -cpu; default `host` under KVM, TCG_CPU_MODEL under TCG. */
  cpuModel?: string;
  cpus: number;
  ramMiB: number;
  kernelPath: string;
  initrdPath: string;
  /** The full kernel command line (see kernelCommandLine). */
  cmdline: string;
  agentSocket: string;
  qmpSocket: string;
  /** The serial console's socket (QEMU serves it; output while no one is connected is dropped). */
  consoleSocket: string;
  shares: PlannedShare[];
  disks: PlannedDisk[];
  nics: PlannedNic[];
  /** Guest RAM from this file, mapped privately (a snapshot's RAM); default: a shared memfd. */
  ramFile?: string;
  /** Wait for the VM's state through QMP migrate-incoming (a restore). */
  incoming?: boolean;
  /** The vsock device's vhost-user socket (its backend, vsock-backend.ts, serves it); none without vsock. */
  vsockSocket?: string;
}

export interface CmdlineOptions {
  machine: MachineType;
  /** Host TSC frequency in kHz (microvm needs tsc_early_khz, machine.md pitfall 1). */
  tscKhz: number | undefined;
  hostname: string;
  initArgs: readonly string[];
}

/**
 * panic=-1 reboots at once on a panic, and reboot=t reboots by a triple fault: microvm has
 * no keyboard controller or reset register, so the kernel's default ways spin for good
 * (QEMU at 100 % CPU) where a triple fault resets, which -no-reboot turns into QEMU's exit.
 */
export function kernelCommandLine(o: CmdlineOptions): string {
  const parts = ['console=ttyS0', 'panic=-1', 'reboot=t', 'quiet', 'cryptomgr.notests'];
  if (o.machine === 'microvm' && o.tscKhz !== undefined) parts.push(`tsc_early_khz=${o.tscKhz}`);
  parts.push(`vessel.hostname=${o.hostname}`, ...o.initArgs);
  return parts.join(' ');
}

/** QEMU option values are comma-separated: a literal comma is written twice. */
export function qemuEscape(value: string): string {
  return value.replaceAll(',', ',,');
}

export function qemuArgs(p: LaunchPlan): string[] {
  const microvm = p.machine === 'microvm';
  const dev = (name: string) => (microvm ? `${name}-device` : `${name}-pci`);
  const args: string[] = microvm
    ? ['-M', 'microvm,x-option-roms=off,isa-serial=on,rtc=on,acpi=on,memory-backend=mem', '-global', 'virtio-mmio.force-legacy=false']
    : ['-M', 'q35,memory-backend=mem'];
  args.push(
    '-accel',
    p.accelerator,
    '-cpu',
    p.cpuModel ?? (p.accelerator === 'kvm' ? 'host' : TCG_CPU_MODEL),
    '-smp',
    String(p.cpus),
    '-m',
    `${p.ramMiB}M`,
    '-object',
    p.ramFile === undefined
      ? `memory-backend-memfd,id=mem,size=${p.ramMiB}M,share=on`
      : `memory-backend-file,id=mem,size=${p.ramMiB}M,mem-path=${qemuEscape(p.ramFile)},share=off`,
    '-nodefaults',
    '-no-user-config',
    '-nographic',
    '-no-reboot',
    '-action',
    'panic=exit-failure',
    '-S',
    '-chardev',
    `socket,id=console,path=${qemuEscape(p.consoleSocket)},server=on,wait=off`,
    '-serial',
    'chardev:console',
    '-qmp',
    `unix:${qemuEscape(p.qmpSocket)},server=on,wait=off`,
    '-kernel',
    p.kernelPath,
    '-initrd',
    p.initrdPath,
    '-append',
    p.cmdline,
    '-chardev',
    `socket,id=agent,path=${qemuEscape(p.agentSocket)},server=on,wait=off`,
    '-device',
    dev('virtio-serial'),
    '-device',
    'virtserialport,chardev=agent,name=vessel.agent',
    '-device',
    'pvpanic',
  );
  if (p.incoming) args.push('-incoming', 'defer');
  p.shares.forEach((s, i) => {
    args.push('-chardev', `socket,id=fs${i},path=${qemuEscape(s.socketPath)}`, '-device', `${dev('vhost-user-fs')},chardev=fs${i},tag=${s.tag}`);
  });
  if (p.vsockSocket !== undefined) {
    // The guest's CID is the backend's (vsock-backend.ts): QEMU's device has no guest-cid.
    args.push('-chardev', `socket,id=vsock,path=${qemuEscape(p.vsockSocket)}`, '-device', `${dev('vhost-user-vsock')},chardev=vsock`);
  }
  p.disks.forEach((d, i) => {
    args.push(
      '-drive',
      `file=${qemuEscape(d.path)},format=${d.format},if=none,id=disk${i}${d.readOnly ? ',readonly=on' : ''}`,
      '-device',
      `${dev('virtio-blk')},drive=disk${i},serial=${d.blockId}`,
    );
  });
  p.nics.forEach((n, i) => {
    const id = netdevId(i);
    if (n.mode === 'unixgram') {
      args.push('-netdev', `dgram,id=${id},local.type=unix,local.path=${qemuEscape(n.localPath)},remote.type=unix,remote.path=${qemuEscape(n.endpoint)}`);
    } else if ('fd' in n) {
      args.push('-netdev', `stream,id=${id},server=off,addr.type=fd,addr.str=${n.fd}`);
    } else {
      args.push('-netdev', `stream,id=${id},server=off,addr.type=unix,addr.path=${qemuEscape(n.endpoint)}`);
    }
    args.push('-device', [`${dev('virtio-net')}`, `netdev=${id}`, `mac=${n.mac}`, ...featureProperties(n.features)].join(','));
  });
  return args;
}

/** The QEMU id of the `index`th NIC's netdev (QMP set_link names it). */
export function netdevId(index: number): string {
  return `net${index}`;
}
