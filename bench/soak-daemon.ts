// A real `vessel serve` for bench/soak: the compiled CLI as a child process on a unix socket
// in a private VESSEL_HOME (sharing the image cache, test/cli/helpers.ts), with grpc-js
// clients. It runs in its own process group, so a terminal's ^C reaches only the bench,
// which then stops it (SIGTERM: it shuts its VMs down; SIGKILL after a deadline); and under
// `setpriv --pdeathsig TERM`, so it stops by itself should the bench die. stop() reports how
// it ended and ends (and reports) anything still running under the private home.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { processesOf, useTestHome, vesselBin, type TestHome } from '../test/cli/helpers.js';
import { vmClients, type VmClients } from '../test/support/grpc-client.js';
import { repoRoot } from '../test/support/repo.js';
import { removeAtExit } from './soak-tmp.js';
import { bounded, settledWithin } from './soak-wait.js';

export interface DaemonEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  stopMs: number;
  /** Processes still running under the private home after the daemon exited (then killed). */
  leftover: Array<{ pid: number; comm: string }>;
}

export interface SoakDaemon {
  readonly pid: number;
  readonly home: TestHome;
  readonly socket: string;
  readonly clients: VmClients;
  /** The tail of the daemon's log (stderr). */
  log(): string;
  running(): boolean;
  stop(): Promise<DaemonEnd>;
}

const LISTENING = '"msg":"vessel daemon listening"';
const LOG_TAIL = 64 * 1024;

export async function startSoakDaemon(timeoutMs: number): Promise<SoakDaemon> {
  const home = await useTestHome(); // sets VESSEL_HOME, which the daemon inherits
  const keepHome = removeAtExit(home.dir);
  const socket = path.join(home.dir, 'vessel.sock');
  const child = spawn('setpriv', ['--pdeathsig', 'TERM', '--', process.execPath, vesselBin, 'serve', '--socket', socket], {
    cwd: repoRoot,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const logged = new Set<() => void>();
  child.stderr!.on('data', (c: Buffer) => {
    log = (log + c.toString()).slice(-LOG_TAIL);
    for (const f of logged) f();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  let ended = false;
  void exited.then(() => (ended = true));
  let clients: VmClients | undefined;
  let stopping: Promise<DaemonEnd> | undefined;
  const stop = (): Promise<DaemonEnd> =>
    (stopping ??= (async () => {
      clients?.close();
      const t0 = performance.now();
      if (!ended) child.kill('SIGTERM');
      if (!(await settledWithin(exited, 60_000))) {
        child.kill('SIGKILL'); // its helpers die with it (pdeathsig)
        await settledWithin(exited, 10_000);
      }
      const end = await exited;
      const stopMs = performance.now() - t0;
      const leftover = processesOf(home);
      for (const p of leftover) process.kill(p.pid, 'SIGKILL');
      keepHome();
      await home.restore();
      return { ...end, stopMs, leftover };
    })());
  try {
    await bounded(
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (log.includes(LISTENING)) resolve();
        };
        logged.add(check);
        void exited.then(({ code, signal }) => reject(new Error(`vessel serve exited (${code ?? signal}) before listening: ${log}`)));
        check();
      }),
      timeoutMs,
      'vessel serve to listen',
    );
    clients = vmClients(socket);
    return { pid: child.pid!, home, socket, clients, log: () => log, running: () => !ended, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
