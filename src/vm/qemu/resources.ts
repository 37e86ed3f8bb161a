// VmResources: everything one VM holds on the host, collected as start() acquires it, so
// that one idempotent release() frees all of it on every path (shutdown, failed start,
// VMM death): the guest connection, QEMU, virtiofsd and passt processes, staged disks,
// sockets and the console log.
import fs from 'node:fs';
import type net from 'node:net';
import type { AgentClient } from '../../agent/index.js';
import type { SupervisedHelper } from '../helpers/supervised.js';
import type { QmpClient } from './qmp.js';
import type { ConsoleLog } from './console-log.js';
import { removeStagedDisks, type StagedDisk } from './disks.js';

export class VmResources {
  qemu: SupervisedHelper | undefined;
  qmp: QmpClient | undefined;
  /** The QMP connection before QmpClient owns it (a greeting that never comes). */
  qmpSocket: net.Socket | undefined;
  /** The agent's transport before AgentClient owns it (a session that never comes up). */
  agentTransport: net.Socket | undefined;
  agent: AgentClient | undefined;
  console: ConsoleLog | undefined;
  readonly helpers: SupervisedHelper[] = [];
  readonly disks: StagedDisk[] = [];
  readonly sockets: string[] = [];
  private released: Promise<void> | undefined;

  /** Frees everything (SIGKILLs QEMU if it still runs). Safe to call any number of times. */
  release(): Promise<void> {
    this.released ??= this.doRelease();
    return this.released;
  }

  private async doRelease(): Promise<void> {
    this.agent?.close();
    this.agentTransport?.destroy();
    this.qmp?.close();
    this.qmpSocket?.destroy();
    await this.qemu?.stop(0);
    // virtiofsd and passt exit once QEMU's end closes; the grace period covers that.
    await Promise.all(this.helpers.map((h) => h.stop(1000)));
    this.console?.close();
    await removeStagedDisks(this.disks);
    for (const s of this.sockets) fs.rmSync(s, { force: true });
  }
}
