// Contract: `vessel run` (RUN_USAGE in args.ts). One run = one instance dir
// ($VESSEL_HOME/instances/<id>, 0700) and one VM, both removed on every exit path:
// normal exit, the command failing to start, vessel failing (125), and SIGINT / SIGTERM /
// SIGHUP. A host signal is forwarded to the guest process group (SIGINT as a terminal's
// Ctrl-C would); if the process has not exited within the grace period, or a second
// signal arrives, or the signal came while booting, the run is torn down at once and the
// exit code is 128+N for the signal vessel received. The teardown shuts the VM down
// gracefully, except after a repeated signal: then QEMU is killed at once (shutdown({now}),
// also when a graceful shutdown is already under way). Bounded whatever the guest does:
// SIGNAL_GRACE_MS plus the instance's shutdown bound (6 s on QEMU, vm/qemu/deadlines.ts)
// keep a run within 10 s of its first signal. QEMU and its helpers run in process groups
// of their own, so a terminal's Ctrl-C reaches vessel only.
import os from 'node:os';
import { VesselError } from '../../errors/index.js';
import { ensureDefaultImage } from '../../image/index.js';
import type { Instance, NewManager } from '../../vm/index.js';
import type { ExitStatus } from '../../agent/index.js';
import { execFailureExit, guestExit, reportError } from '../errors.js';
import { guestEnvironment } from '../guest-env.js';
import type { CliIo, HostSignal } from '../io.js';
import { createInstanceDir, removeInstanceDir, type InstanceDir } from '../instances.js';
import { cliLogger } from '../log.js';
import { progressReporter } from '../progress.js';
import { RUN_USAGE, parseRunArgs, type RunSpec } from './args.js';
import { GuestProcess } from './exec.js';
import { enterRawMode, windowSize } from './tty.js';
import { configureInstance, startInstance } from './vm.js';

/** How long a failed run waits for the instance to notice a dead VMM before shutting it down. */
const VMM_EXIT_NOTICE_MS = 1_000;

/** How long a signalled guest process gets to exit before the VM is torn down anyway. */
export const SIGNAL_GRACE_MS = 3_000;

const TEARDOWN_SIGNALS: HostSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

class Interrupted extends Error {
  constructor(readonly signal: HostSignal) {
    super(`interrupted by ${signal}`);
  }
}

function signalNumber(s: HostSignal): number {
  return os.constants.signals[s];
}

/** The guest environment of a run (see guest-env.ts). */
export function guestEnv(spec: RunSpec, hostEnv: NodeJS.ProcessEnv): string[] {
  return guestEnvironment(spec.env, spec.tty, hostEnv);
}

export async function runRun(argv: string[], io: CliIo, newManager: NewManager): Promise<number> {
  let spec: RunSpec;
  try {
    spec = parseRunArgs(argv, { cwd: io.cwd, env: io.env });
  } catch (err) {
    return reportError(err, 'vessel run', io.stderr);
  }
  if (spec.help) {
    io.stdout.write(RUN_USAGE);
    return 0;
  }
  return new RunSession(spec, io, newManager).run();
}

class RunSession {
  private readonly logger;
  private readonly teardown = new AbortController();
  /** Aborted once the instance has stopped or failed (e.g. the guest kernel panicked). */
  private readonly vmStopped = new AbortController();
  private received: HostSignal | undefined;
  private instanceDir: InstanceDir | undefined;
  private instance: Instance | undefined;
  private guest: GuestProcess | undefined;
  private restoreTerminal: () => void = () => undefined;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly spec: RunSpec,
    private readonly io: CliIo,
    private readonly newManager: NewManager,
  ) {
    this.logger = cliLogger(spec.debug, io.stderr);
  }

  async run(): Promise<number> {
    const handlers = TEARDOWN_SIGNALS.map((s) => [s, () => this.onSignal(s)] as const);
    const onWinch = () => this.onResize();
    // A closed stdout or stderr (EPIPE: `vessel run ... 2>&1 | head`) must not crash vessel
    // before it has cleaned up; lost output is the reader's choice.
    const onOutputError = () => undefined; // not logged: the log may be the closed stream
    this.io.stdout.on('error', onOutputError);
    this.io.stderr.on('error', onOutputError);
    for (const [s, h] of handlers) this.io.signals.on(s, h);
    this.io.signals.on('SIGWINCH', onWinch);
    let outcome: { status: ExitStatus } | { err: unknown };
    try {
      outcome = { status: await this.execute() };
    } catch (err) {
      outcome = { err };
    } finally {
      clearTimeout(this.graceTimer);
      this.restoreTerminal();
      this.io.signals.off('SIGWINCH', onWinch);
      await this.cleanUp('err' in outcome!);
      // Signals stay handled until everything is gone: a second Ctrl-C must not leave a VM behind.
      for (const [s, h] of handlers) this.io.signals.off(s, h);
    }
    try {
      return this.exitCode(outcome);
    } finally {
      this.io.stdout.off('error', onOutputError);
      this.io.stderr.off('error', onOutputError);
    }
  }

  /** After cleanup, so that a VM that died under the command has recorded why. */
  private exitCode(outcome: { status: ExitStatus } | { err: unknown }): number {
    if ('status' in outcome) return guestExit(outcome.status, 'vessel run', this.spec.command[0]!, this.io.stderr);
    const { err } = outcome;
    if (err instanceof Interrupted || (this.received && this.teardown.signal.aborted)) return 128 + signalNumber(this.received!);
    const cannotExec = execFailureExit(err);
    if (cannotExec !== undefined) {
      this.io.stderr.write(`vessel run: ${this.spec.command[0]}: ${(err as Error).message}\n`);
      return cannotExec;
    }
    // The VM died under the command: say that, not how the agent connection ended.
    return reportError(this.instance?.failure() ?? err, 'vessel run', this.io.stderr);
  }

  private async execute(): Promise<ExitStatus> {
    const { spec, io } = this;
    const bar = progressReporter(io.stderr);
    const image = await this.interruptible(ensureDefaultImage({ onProgress: bar.onProgress, logger: this.logger }).finally(() => bar.finish()));
    this.instanceDir = createInstanceDir();
    this.logger.debug({ dir: this.instanceDir.dir, image: image.id }, 'instance dir created');
    const { instance, mounts } = await this.interruptible(configureInstance(spec, this.instanceDir.dir, this.newManager({ image, logger: this.logger })));
    this.instance = instance;
    void instance.whenStopped().then(() => this.vmStopped.abort());
    await this.interruptible(startInstance(instance, mounts, { console: spec.console ? io.stderr : undefined, signal: this.teardown.signal }));

    const tty = spec.tty ? (windowSize(io.stdout, io.stderr) ?? { rows: 24, cols: 80 }) : undefined;
    this.guest = new GuestProcess(instance.client(), io);
    if (spec.tty && spec.interactive) this.restoreTerminal = enterRawMode(io.stdin);
    const { exited } = await this.interruptible(
      this.guest.start({
        args: spec.command,
        env: guestEnv(spec, io.env),
        cwd: spec.workdir,
        interactive: spec.interactive,
        tty,
      }),
    );
    return this.interruptible(exited);
  }

  /**
   * `p`, unless a teardown is requested first, or the VM stops under us (a call to a guest
   * that is gone need not fail by itself: the run ends with why the VM stopped).
   */
  private interruptible<T>(p: Promise<T>): Promise<T> {
    const { teardown, vmStopped } = this;
    return new Promise<T>((resolve, reject) => {
      const onTeardown = () => reject(new Interrupted(this.received ?? 'SIGTERM'));
      const onVmStopped = () => reject(this.instance?.failure() ?? new VesselError('VM_EXITED', 'the VM stopped under the command'));
      if (teardown.signal.aborted) return onTeardown();
      if (vmStopped.signal.aborted) return onVmStopped();
      teardown.signal.addEventListener('abort', onTeardown, { once: true });
      vmStopped.signal.addEventListener('abort', onVmStopped, { once: true });
      p.then(resolve, reject).finally(() => {
        teardown.signal.removeEventListener('abort', onTeardown);
        vmStopped.signal.removeEventListener('abort', onVmStopped);
      });
    });
  }

  private onSignal(s: HostSignal): void {
    this.logger.debug({ signal: s }, 'signal received');
    if (this.received !== undefined) {
      // a repeated signal: the user is done waiting
      this.teardown.abort();
      this.instance?.shutdown({ now: true }).catch(() => undefined);
      return;
    }
    if (!this.guest?.running) {
      // nothing to forward to yet: tear down (a boot under way is stopped)
      this.received = s;
      this.teardown.abort();
      return;
    }
    this.received = s;
    this.guest.signal(signalNumber(s)).catch((err: unknown) => this.logger.debug({ err: (err as Error).message }, 'forwarding the signal failed'));
    this.graceTimer = setTimeout(() => this.teardown.abort(), SIGNAL_GRACE_MS);
  }

  private onResize(): void {
    const size = windowSize(this.io.stdout, this.io.stderr);
    if (size && this.spec.tty) this.guest?.resize(size).catch(() => undefined);
  }

  private async cleanUp(failed: boolean): Promise<void> {
    this.guest?.close();
    if (failed && this.instance?.state() === 'running' && !this.teardown.signal.aborted) {
      // The agent connection may end a moment before QEMU's exit is seen: give the instance
      // that moment to record a dead VMM as its failure (shutdown() would mask it).
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.instance.whenStopped(),
        new Promise((r) => {
          timer = setTimeout(r, VMM_EXIT_NOTICE_MS);
        }),
      ]);
      clearTimeout(timer);
    }
    if (this.instance) {
      await this.instance.shutdown().catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'shutdown failed'));
    }
    if (this.instanceDir) removeInstanceDir(this.instanceDir.dir);
    this.logger.debug('run cleaned up');
  }
}
