// A private containerd for tests (../shared/docs/containerd-shim.md): its own config, root,
// state, sockets, opt dir and shim PATH under one temp dir — never the system's. It runs
// under `setpriv --pdeathsig KILL`, so it dies with the test process; stop() ends it by
// PID. Shims outlive containerd by design, so stop() also ends every process still working
// in a bundle under the dir (shim servers have their bundle as cwd) and unmounts whatever
// is still mounted below the dir before removing it.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { runTool } from './run-tool.js';
import { makePrivateTempDir } from './tmpdir.js';
import { listProcesses } from './host-processes.js';
import { waitFor } from './wait-for.js';

const execFileP = promisify(execFile);

export interface CtrResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CtrOptions {
  /** Bytes for ctr's stdin (default: none, stdin is /dev/null). */
  input?: string;
  timeoutMs?: number;
}

export interface PrivateContainerd {
  readonly dir: string;
  readonly socket: string;
  readonly binDir: string;
  /** containerd's environment (PATH with DIR/bin first): for other clients of it. */
  readonly env: NodeJS.ProcessEnv;
  pid(): number;
  /** Runs `ctr -a SOCKET ARGS…` and collects its output (never throws on a non-zero exit). */
  ctr(args: string[], opts?: CtrOptions): Promise<CtrResult>;
  /** Starts `ctr ARGS…` without waiting (for tests that act while it runs). */
  spawnCtr(args: string[]): ChildProcess;
  /** Flags `ctr run` needs for runc here (FIFO dir and runc root inside the dir). */
  runcFlags(): string[];
  /** Kills containerd (SIGTERM, then SIGKILL) and waits for it; shims keep running. */
  kill(): Promise<void>;
  /** Starts containerd again with the same config (after kill()). */
  restart(): Promise<void>;
  /** Kills containerd and every process left in its bundles, unmounts, removes the dir. */
  stop(): Promise<void>;
}

function config(dir: string): string {
  return `version = 2
root = "${dir}/root"
state = "${dir}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "${dir}/containerd.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "${dir}/opt"
`;
}

/** Mount points at or below `dir`, deepest first. */
export function mountsBelow(dir: string): string[] {
  const out: string[] = [];
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mountPoint = line.split(' ')[4]?.replace(/\\040/g, ' ');
    if (mountPoint && (mountPoint === dir || mountPoint.startsWith(`${dir}/`))) out.push(mountPoint);
  }
  return out.sort((a, b) => b.length - a.length);
}

/** Processes whose working directory is at or below `dir`. */
export function processesWorkingIn(dir: string): number[] {
  const pids: number[] = [];
  for (const p of listProcesses()) {
    try {
      const cwd = fs.readlinkSync(`/proc/${p.pid}/cwd`);
      if (cwd === dir || cwd.startsWith(`${dir}/`)) pids.push(p.pid);
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

export interface ContainerdOptions {
  /** Executables written into DIR/bin (first on containerd's PATH): name → script. */
  shimBins?: Record<string, string>;
  /** containerd's PATH after DIR/bin (default: this process's PATH). */
  path?: string;
  /** More environment for containerd (and so for its shims and ctr), or a function of the dir giving it. */
  env?: Record<string, string> | ((dir: string) => Record<string, string>);
  /** The config.toml for a dir (default: the CRI plugin disabled, as above). */
  config?: (dir: string) => string;
  /** Subdirectories of the dir to create before containerd starts. */
  dirs?: string[];
  /** Prefix of the temp dir's name (default `containerd`). */
  prefix?: string;
  /** Runs after the dir, its subdirectories and the config exist, before containerd starts. */
  prepare?: (dir: string) => Promise<void>;
}

export async function startContainerd(opts: ContainerdOptions = {}): Promise<PrivateContainerd> {
  const tmp = await makePrivateTempDir(opts.prefix ?? 'containerd');
  const dir = tmp.dir;
  const socket = path.join(dir, 'containerd.sock');
  const binDir = path.join(dir, 'bin');
  for (const d of ['bin', 'opt', 'fifo', 'runc', 'root', 'state', ...(opts.dirs ?? [])]) fs.mkdirSync(path.join(dir, d), { recursive: true });
  for (const [name, script] of Object.entries(opts.shimBins ?? {})) {
    fs.writeFileSync(path.join(binDir, name), script, { mode: 0o755 });
  }
  fs.writeFileSync(path.join(dir, 'config.toml'), (opts.config ?? config)(dir));
  try {
    await opts.prepare?.(dir);
  } catch (err) {
    await tmp.remove();
    throw err;
  }
  const env = {
    ...process.env,
    ...(typeof opts.env === 'function' ? opts.env(dir) : opts.env),
    PATH: `${binDir}:${opts.path ?? process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`,
  };
  const logPath = path.join(dir, 'containerd.log');

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  // (ctr may exit without reading its stdin: runTool takes EPIPE there as no failure; its exit code tells)
  const ctr = (args: string[], o: CtrOptions = {}): Promise<CtrResult> =>
    runTool('ctr', ['-a', socket, ...args], { env, input: o.input, timeoutMs: o.timeoutMs });

  const start = async (): Promise<void> => {
    const log = fs.openSync(logPath, 'a');
    child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'containerd', '--config', path.join(dir, 'config.toml')], {
      cwd: dir,
      env,
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    const c = child;
    exited = new Promise((resolve) => c.once('exit', () => resolve()));
    let dead = false;
    void exited.then(() => {
      dead = true;
    });
    await waitFor(() => dead || fs.existsSync(socket), 'containerd socket', 30_000, 10);
    if (dead) throw new Error(`containerd exited at start:\n${fs.readFileSync(logPath, 'utf8').slice(-4000)}`);
    // The socket exists before the services are registered: wait until one answers.
    for (;;) {
      const r = await ctr(['version'], { timeoutMs: 10_000 });
      if (r.code === 0) return;
      if (dead) throw new Error(`containerd exited at start:\n${fs.readFileSync(logPath, 'utf8').slice(-4000)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const kill = async (): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
    fs.rmSync(socket, { force: true });
  };

  try {
    await start();
  } catch (err) {
    await kill();
    await tmp.remove();
    throw err;
  }
  return {
    dir,
    socket,
    binDir,
    env,
    pid: () => child?.pid ?? 0,
    ctr,
    spawnCtr: (args) => spawn('ctr', ['-a', socket, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] }),
    runcFlags: () => ['--fifo-dir', path.join(dir, 'fifo'), '--runc-root', path.join(dir, 'runc')],
    kill,
    restart: start,
    async stop() {
      await kill();
      for (const pid of processesWorkingIn(dir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      await waitFor(() => processesWorkingIn(dir).length === 0, 'processes in the bundles to end', 10_000, 20);
      for (const m of mountsBelow(dir)) await execFileP('umount', ['-l', m]).catch(() => undefined);
      await tmp.remove();
    },
  };
}

/** The containerd log so far (for failure messages). */
export function containerdLog(c: PrivateContainerd): string {
  try {
    return fs.readFileSync(path.join(c.dir, 'containerd.log'), 'utf8');
  } catch {
    return '';
  }
}
