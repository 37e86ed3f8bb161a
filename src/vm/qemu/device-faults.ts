// Device faults: a device's host backend (a share's virtiofsd, a NIC's passt) dying while
// the VM runs. The VM runs on. The device is recorded as failed once, with a DEVICE_FAILED
// error naming it (the share's tag, the NIC's MAC) and how its backend ended, and logged;
// then the guest is fenced off it so that its programs get errors instead of waiting
// forever: a NIC's link goes down (QMP set_link: the guest sees the carrier go) and the
// agent sets the interface down (connects fail with ENETUNREACH); a share's mounts become
// dead mounts on which every access fails with ENOTCONN (agent.proto FenceDevice). Listeners
// hear of each failure once that was tried. What fencing cannot undo: requests the dead
// virtiofsd had already taken are never answered (Linux cannot abort a virtiofs connection),
// so guest processes blocked on them stay blocked until the VM ends.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { VesselError } from '../../errors/index.js';
import type { ExitInfo, SupervisedHelper } from '../helpers/supervised.js';
import type { DeviceFailure } from '../types.js';

/** A device and the helper process that backs it. */
export interface BackedDevice {
  kind: 'share' | 'nic';
  /** The share's tag or the NIC's MAC. */
  id: string;
  helper: SupervisedHelper;
  /** A NIC's QEMU netdev id (for QMP set_link). */
  netdevId?: string;
}

/** What reacting to a fault needs from the instance. */
export interface FaultTarget {
  /** Whether a backend's exit now is a fault: the VM runs and vessel is not tearing it down. */
  running(): boolean;
  /** The agent's FenceDevice: the mount points or the interface fenced. */
  fenceInGuest(device: { virtiofsTag: string } | { mac: string }): Promise<string[]>;
  /** QMP set_link off for a NIC's netdev. */
  linkDown(netdevId: string): Promise<void>;
}

export function deviceFailedError(d: Pick<BackedDevice, 'kind' | 'id' | 'helper'>, exit: ExitInfo): VesselError {
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  const what = d.kind === 'share' ? `share ${JSON.stringify(d.id)}: its virtiofsd` : `NIC ${d.id}: its passt`;
  const effect =
    d.kind === 'share'
      ? 'the guest sees I/O errors on it (ENOTCONN); guest processes already waiting on it stay blocked'
      : 'the guest sees network errors on it (ENETUNREACH)';
  return new VesselError('DEVICE_FAILED', `${what} (pid ${d.helper.pid}) ${how} while the VM ran; ${effect}`);
}

export class DeviceFaults {
  private readonly devices: BackedDevice[] = [];
  private readonly failures: DeviceFailure[] = [];
  private readonly events = new EventEmitter<{ failure: [DeviceFailure] }>();
  private armed = false;

  constructor(private readonly logger: Logger) {}

  /** Registers a device's backend (during start; watched from arm() on). */
  add(device: BackedDevice): void {
    this.devices.push(device);
  }

  /** From now on a backend's exit is a fault, as long as `target.running()`; call once the VM runs. */
  arm(target: FaultTarget): void {
    if (this.armed) return;
    this.armed = true;
    for (const d of this.devices) void d.helper.exited.then((exit) => this.onExit(d, exit, target));
  }

  list(): DeviceFailure[] {
    return this.failures.map((f) => ({ ...f }));
  }

  onFailure(listener: (f: DeviceFailure) => void): () => void {
    this.events.on('failure', listener);
    return () => this.events.off('failure', listener);
  }

  private async onExit(d: BackedDevice, exit: ExitInfo, target: FaultTarget): Promise<void> {
    if (!target.running()) return;
    const failure: DeviceFailure = { kind: d.kind, id: d.id, error: deviceFailedError(d, exit), at: new Date() };
    this.failures.push(failure);
    this.logger.error({ device: d.kind, id: d.id, pid: d.helper.pid, ...exit, err: failure.error.message }, 'a device backend died; the VM runs on');
    try {
      if (d.kind === 'nic' && d.netdevId !== undefined) await target.linkDown(d.netdevId);
      const targets = await target.fenceInGuest(d.kind === 'share' ? { virtiofsTag: d.id } : { mac: d.id });
      failure.fenced = { targets };
      this.logger.warn({ device: d.kind, id: d.id, fenced: targets }, 'the guest is fenced off the failed device');
    } catch (err) {
      failure.fenced = { error: (err as Error).message };
      this.logger.warn({ device: d.kind, id: d.id, err: (err as Error).message }, 'could not fence the guest off the failed device');
    }
    this.events.emit('failure', { ...failure });
  }
}
