// VmConfig: the configuration an Instance collects before start, validated at each call.
// Backends read it; nothing here knows about QEMU.
import { TOOLS_BLOCK_ID } from '../agent/index.js';
import { VesselError } from '../errors/index.js';
import type { DiskOptions, FSOptions, IPConfig, NICOptions, NetworkMode } from './types.js';
import { validateBlockId, validateCPUAndMemory, validateGuestPath, validateHostPath, validateMac, validateTag } from './validate.js';
import { validateIPConfig } from './ip-config.js';
import { validateNicFeatures } from './nic-features.js';

export const DEFAULT_CPUS = 1;
export const DEFAULT_RAM_MIB = 256;
/** microvm has 24 virtio-mmio transports; the agent's virtio-serial port and the image's tools disk take one each. */
export const MAX_DEVICES = 22;

export interface ShareConfig {
  tag: string;
  hostPath: string;
  readOnly: boolean;
  mountPoint: string | null;
}

export interface DiskConfig {
  blockId: string;
  hostPath: string;
  readOnly: boolean;
  format: 'raw' | 'vmdk';
  ephemeral: boolean;
}

export interface NicConfig {
  endpoint: string;
  mac: string;
  mode: NetworkMode;
  features: number | undefined;
  /** undefined: the mode's default (see NICOptions.ip); null: leave alone. */
  ip: IPConfig | null | undefined;
}

/** A NIC on a passt that vessel starts itself (net/passt.ts). */
export interface PasstNicConfig {
  mac: string;
  ip: IPConfig;
  /** A network namespace (its nsfs path) passt runs in, forwarding every port there to the guest. */
  netns?: string;
}

export class VmConfig {
  cpus = DEFAULT_CPUS;
  ramMiB = DEFAULT_RAM_MIB;
  readonly shares: ShareConfig[] = [];
  readonly disks: DiskConfig[] = [];
  readonly nics: NicConfig[] = [];
  readonly passtNics: PasstNicConfig[] = [];

  setCPUAndMemory(cpus: number, ramMiB: number): void {
    validateCPUAndMemory(cpus, ramMiB);
    this.cpus = cpus;
    this.ramMiB = ramMiB;
  }

  addFS(tag: string, hostPath: string, opts: FSOptions = {}): void {
    validateTag(tag);
    if (this.shares.some((s) => s.tag === tag))
      throw new VesselError('ALREADY_EXISTS', `virtio-fs tag ${JSON.stringify(tag)} is already used by another share of this instance`);
    const abs = validateHostPath(hostPath, 'directory', `share ${JSON.stringify(tag)}: host path`);
    const mountPoint = opts.mountPoint === undefined ? `/mnt/${tag}` : opts.mountPoint;
    if (mountPoint !== null) validateGuestPath(mountPoint, `share ${JSON.stringify(tag)}: mount point`);
    this.checkDeviceRoom();
    this.shares.push({ tag, hostPath: abs, readOnly: opts.readOnly === true, mountPoint });
  }

  addDisk(blockId: string, hostPath: string, opts: DiskOptions = {}): void {
    validateBlockId(blockId);
    if (this.disks.some((d) => d.blockId === blockId) || blockId === TOOLS_BLOCK_ID)
      throw new VesselError(
        'ALREADY_EXISTS',
        `block id ${JSON.stringify(blockId)} is already used by another disk of this instance (${TOOLS_BLOCK_ID} is the image's tools disk)`,
      );
    const abs = validateHostPath(hostPath, 'file', `disk ${JSON.stringify(blockId)}: image`);
    this.checkDeviceRoom();
    this.disks.push({ blockId, hostPath: abs, readOnly: opts.readOnly === true, format: opts.vmdk ? 'vmdk' : 'raw', ephemeral: opts.ephemeral !== false });
  }

  addNIC(endpoint: string, mac: string, mode: NetworkMode, opts: NICOptions = {}): void {
    if (mode !== 'unixstream' && mode !== 'unixgram')
      throw new VesselError('INVALID_ARGUMENT', `network mode must be "unixstream" or "unixgram", got ${JSON.stringify(mode)}`);
    const normalized = this.unusedMac(mac);
    const abs = validateHostPath(endpoint, 'socket', `NIC ${normalized}: endpoint`);
    validateNicFeatures(opts.features, opts.flags);
    if (opts.ip) validateIPConfig(opts.ip);
    this.checkDeviceRoom();
    this.nics.push({ endpoint: abs, mac: normalized, mode, features: opts.features, ip: opts.ip });
  }

  addPasstNIC(mac: string, ip: IPConfig, netns?: string): void {
    const normalized = this.unusedMac(mac);
    validateIPConfig(ip);
    if (!ip.addresses[0]?.includes('.')) throw new VesselError('INVALID_ARGUMENT', 'a passt NIC needs an IPv4 address first in ip.addresses');
    const ns = netns === undefined ? undefined : validateHostPath(netns, 'file', 'network namespace');
    this.checkDeviceRoom();
    this.passtNics.push({ mac: normalized, ip, ...(ns ? { netns: ns } : {}) });
  }

  /** The normalized MAC, if it is valid and no NIC of this config has it yet. */
  private unusedMac(mac: string): string {
    const normalized = validateMac(mac);
    if (this.nics.some((n) => n.mac === normalized) || this.passtNics.some((n) => n.mac === normalized)) {
      throw new VesselError('ALREADY_EXISTS', `MAC address ${normalized} is already used by another NIC of this instance`);
    }
    return normalized;
  }

  private checkDeviceRoom(): void {
    if (this.shares.length + this.disks.length + this.nics.length + this.passtNics.length >= MAX_DEVICES) {
      throw new VesselError('INVALID_ARGUMENT', `at most ${MAX_DEVICES} shares, disks and NICs fit in one VM`);
    }
  }
}
