// VmResources: everything one VM holds on the host, collected as start() acquires it, so
// that one idempotent release() frees all of it on every path (shutdown, failed start,
// VMM death): the guest connection, QEMU, virtiofsd and passt processes (children, or
// adopted after live restore), staged disks, sockets, the console connection and its log,
// and the saved VM (vm.json) of a live-restore VM. release() is bounded (deadlines.ts): a process that does
// not die of SIGKILL in time is left to the kernel and logged, not waited for.
import fs from 'node:fs';
import type net from 'node:net';
import type { Logger } from 'pino';
import type { AgentClient } from '../../agent/index.js';
import type { HelperProcess } from '../helpers/supervised.js';
import type { QmpClient } from './qmp.js';
import type { ConsoleLog } from './console-log.js';
import { HELPER_GRACE_MS, KILL_REAP_MS, VMM_OUTPUT_DRAIN_MS, within } from './deadlines.js';
import { removeStagedDisks, type StagedDisk } from './disks.js';

/** Resolves once QEMU's console connection and its output pipes are closed: everything it wrote has been read. */
export function vmmOutputClosed(r: VmResources): Promise<void> {
  const s = r.consoleSocket;
  const console = !s || s.closed || s.destroyed ? Promise.resolve() : new Promise<void>((resolve) => s.once('close', () => resolve()));
  return Promise.all([console, r.qemu?.outputClosed()]).then(() => undefined);
}

export class VmResources {
  qemu: HelperProcess | undefined;
  qmp: QmpClient | undefined;
  /** The QMP connection before QmpClient owns it (a greeting that never comes). */
  qmpSocket: net.Socket | undefined;
  /** The agent's transport before AgentClient owns it (a session that never comes up). */
  agentTransport: net.Socket | undefined;
  agent: AgentClient | undefined;
  console: ConsoleLog | undefined;
  /** The serial console's connection (QEMU serves it), feeding `console`. */
  consoleSocket: net.Socket | undefined;
  /** The saved VM to remove on release (live restore only). */
  savedVm: string | undefined;
  readonly helpers: HelperProcess[] = [];
  readonly disks: StagedDisk[] = [];
  readonly sockets: string[] = [];
  private released: Promise<void> | undefined;

  constructor(private readonly logger: Logger) {}

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
    const qemu = this.qemu;
    // virtiofsd and passt would exit once QEMU's end closes: they are stopped alongside.
    await Promise.all([
      qemu &&
        (async () => {
          if (!(await within(qemu.stop(0), KILL_REAP_MS))) this.stuck(qemu);
          // its last console lines reach the log before the log is closed
          await within(vmmOutputClosed(this), VMM_OUTPUT_DRAIN_MS);
        })(),
      ...this.helpers.map(async (h) => {
        if (!(await within(h.stop(HELPER_GRACE_MS), HELPER_GRACE_MS + KILL_REAP_MS))) this.stuck(h);
      }),
    ]);
    this.consoleSocket?.destroy();
    this.console?.close();
    if (this.savedVm) fs.rmSync(this.savedVm, { force: true });
    await removeStagedDisks(this.disks);
    for (const s of this.sockets) fs.rmSync(s, { force: true });
  }

  private stuck(p: HelperProcess): void {
    this.logger.warn({ process: p.name, pid: p.pid }, 'not reaped in time after SIGKILL (uninterruptible sleep?); going on without it');
  }
}
