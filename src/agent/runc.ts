// Containers in the guest with runc, the OCI reference runtime, which enforces a bundle's
// whole config.json (mounts, namespaces, users, capabilities, seccomp, rlimits, sysctls,
// readonly rootfs, masked and readonly paths, cgroups from linux.resources). runc lives on
// the image's tools disk (src/image/tools-disk.ts), which every VM gets read-only with the
// virtio-blk serial TOOLS_BLOCK_ID; `ensureRuntime` mounts it on first use (the Mount RPC
// waits for the agent's late modules, so the boot does not pay for it).
//
// Every runc command is an agent exec through execWithStreams:
// - `runContainer`: `runc run --keep` in the foreground. runc copies its stdin/stdout/stderr
//   to and from the container's (separate pipes; with `process.terminal` the agent's pty is
//   runc's console and runc relays a pty of the container's own, resizes included), and
//   exits with the container's status (128+N for signal N: 137 after an OOM kill). runc's
//   own failure is told apart from the container's exit by its JSON log
//   (`runtimeError`), kept per container in the guest until `deleteContainer`. With --keep
//   the stopped container (and its cgroup, with memory.events) stays until then too.
// - `execInContainer`: `runc exec` in the foreground, the same way.
// - `killContainer`, `deleteContainer`, `containerState`, `containerPids`,
//   `containerStats`, `pauseContainer`, `resumeContainer`: short runc commands whose output
//   is parsed here; `containerOomKills`
//   reads the container cgroup's memory.events.
// - A container has started once runc wrote its --pid-file: the agent's WaitFile tells at
//   once (runc run itself tells no one), so nothing polls `runc state`.
// Signal the container with `killContainer`, never the runc process: in terminal mode runc
// exits 0 on SIGINT. Errors: VesselError NOT_FOUND (no such container), ALREADY_EXISTS,
// FAILED_PRECONDITION (no tools disk in this VM, container not running), INVALID_ARGUMENT
// (bad id), INTERNAL (runc failed otherwise; its message is kept).
import { VesselError } from '../errors/index.js';
import type { AgentClient } from './client.js';
import { execWithStreams, type ExecStdio, type GuestExec } from './exec.js';

/** The tools disk's virtio-blk serial (src/vm attaches it read-only to every VM). */
export const TOOLS_BLOCK_ID = 'vessel-tools';
/** Where ensureRuntime mounts the tools disk in the guest. */
export const TOOLS_MOUNT = '/run/vessel/tools';
/** runc on the tools disk (src/image/tools-disk.ts RUNC_IN_TOOLS). */
export const RUNC_PATH = `${TOOLS_MOUNT}/bin/runc`;
/** runc's state directory (--root) in the guest: a tmpfs, gone with the VM. */
export const RUNC_ROOT = '/run/runc';
/**
 * runc's JSON logs and pid files of a container's run and execs: `<dir>/<id>@<name>` (`@` is
 * outside runc's id charset, so one container's files never match another's prefix), made
 * by ensureRuntime, removed by deleteContainer.
 */
const LOG_DIR = '/run/vessel/runc-logs';
/** Bound on what a short runc command may print (ps, state, events --stats). */
const MAX_OUTPUT = 1 << 20;

const mounted = new WeakMap<AgentClient, Promise<void>>();

/** Mounts the tools disk and makes runc's dirs (once per agent client; a failure is retried by the next call). */
export function ensureRuntime(agent: AgentClient): Promise<void> {
  let p = mounted.get(agent);
  if (p === undefined) {
    p = (async () => {
      try {
        await agent.mount({ blockId: TOOLS_BLOCK_ID, target: TOOLS_MOUNT, fstype: 'ext4', readOnly: true, options: ['nodev'] });
      } catch (err) {
        if (err instanceof VesselError && err.code === 'NOT_FOUND')
          throw new VesselError('FAILED_PRECONDITION', `this VM has no tools disk (${TOOLS_BLOCK_ID}), so no runc: its image predates it; rebuild the image`, { cause: err });
        throw err;
      }
      const r = await collect(agent, ['/bin/mkdir', '-p', RUNC_ROOT, LOG_DIR]);
      if (r.exitCode !== 0 || r.signal !== 0) throw new VesselError('INTERNAL', `making runc's dirs in the guest: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
    })();
    p.catch(() => mounted.delete(agent));
    mounted.set(agent, p);
  }
  return p;
}

/** runc's container id rule (`^[\w+-.]+$`), without "." and "..", at most 1024 bytes. */
export function validateContainerId(id: string): void {
  if (typeof id !== 'string' || !/^[A-Za-z0-9_+.-]{1,1024}$/.test(id) || id === '.' || id === '..')
    throw new VesselError('INVALID_ARGUMENT', `container id must be 1-1024 characters of [A-Za-z0-9_+.-] (runc's rule), got ${JSON.stringify(id)}`);
}

function runcArgs(...args: string[]): string[] {
  return [RUNC_PATH, '--root', RUNC_ROOT, '--log-format', 'json', ...args];
}

/** How a container's process ended; `runtimeError` is set when runc itself failed (then the status is runc's). */
export interface ContainerExit {
  exitCode: number;
  signal: number;
  runtimeError?: string;
}

export interface ContainerProcess {
  /** The runc process (its pid is runc's, in the guest; containerState has the container's). */
  readonly exec: GuestExec;
  readonly exited: Promise<ContainerExit>;
}

export interface RunningContainer extends ContainerProcess {
  /**
   * The container's init pid (in the guest) once runc started it: runc writes its
   * --pid-file then, and the agent's WaitFile reports it at once (no polling). Fails with
   * FAILED_PRECONDITION and runc's error when runc ended first, DEADLINE_EXCEEDED after
   * `startTimeoutMs`. The output streams must be being read: runc's exit includes their end.
   */
  readonly started: Promise<number>;
}

export interface RunOptions {
  id: string;
  /** The bundle directory in the guest (config.json and, by default, rootfs/). */
  bundle: string;
  /** Must equal the bundle's process.terminal: runc's stdio is then the agent's pty. */
  terminal?: boolean;
  rows?: number;
  cols?: number;
  /** How long `started` waits for runc to start the container (default 30 s, at most 60 s). */
  startTimeoutMs?: number;
}

let execSeq = 0;

/** A file of container `id` in LOG_DIR. */
function runFile(id: string, name: string): string {
  return `${LOG_DIR}/${id}@${name}`;
}

/** The error-level messages of a runc JSON log (or its raw text when it is not JSON). */
export function runcErrors(log: string): string[] {
  const out: string[] = [];
  for (const line of log.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const e = JSON.parse(line) as { level?: unknown; msg?: unknown };
      if ((e.level === 'error' || e.level === 'fatal') && typeof e.msg === 'string') out.push(e.msg);
    } catch {
      out.push(line.trim());
    }
  }
  return out;
}

/** Runs a short command to completion and collects its output (bounded). */
async function collect(agent: AgentClient, args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number; signal: number }> {
  const ex = await execWithStreams(agent, { args }, { stdout: 'open', stderr: 'open' });
  const take = (s: NodeJS.ReadableStream | undefined): Promise<string> =>
    new Promise((resolve) => {
      const parts: Buffer[] = [];
      let n = 0;
      if (s === undefined) return resolve('');
      s.on('data', (c: Buffer) => {
        n += c.length;
        if (n <= MAX_OUTPUT) parts.push(c);
        else ex.close();
      });
      s.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
      s.on('error', () => resolve(Buffer.concat(parts).toString('utf8')));
      s.on('close', () => resolve(Buffer.concat(parts).toString('utf8')));
    });
  const [stdout, stderr, status] = await Promise.all([take(ex.stdout), take(ex.stderr), ex.exited]);
  ex.close();
  if (stdout.length + stderr.length > MAX_OUTPUT) throw new VesselError('INTERNAL', `${args.slice(0, 6).join(' ')}: more than ${MAX_OUTPUT} bytes of output`);
  return { stdout, stderr, exitCode: status.exitCode, signal: status.signal };
}

/** A runc failure as a VesselError of the code its message implies. */
function runcError(what: string, id: string, messages: string[], status: { exitCode: number; signal: number }): VesselError {
  const msg = messages.at(-1) ?? (status.signal ? `killed by signal ${status.signal}` : `exit status ${status.exitCode}`);
  const text = `runc ${what} ${id}: ${msg}`;
  if (/container does not exist|container .* does not exist/.test(msg)) return new VesselError('NOT_FOUND', text);
  if (/already exists/.test(msg)) return new VesselError('ALREADY_EXISTS', text);
  if (/not running|is stopped|cannot (exec|kill|signal)/i.test(msg)) return new VesselError('FAILED_PRECONDITION', text);
  return new VesselError('INTERNAL', text);
}

/** Runs `runc <what> ...` and returns its stdout; a non-zero exit is a VesselError. */
async function runcCommand(agent: AgentClient, what: string, id: string, args: string[]): Promise<string> {
  validateContainerId(id);
  await ensureRuntime(agent);
  const r = await collect(agent, runcArgs(...args));
  if (r.exitCode !== 0 || r.signal !== 0) throw runcError(what, id, runcErrors(r.stderr), r);
  return r.stdout;
}

/**
 * Wraps a foreground runc exec: its exit, with runc's own error when it failed. runc exits
 * with the container's status, or `failureStatus` (run: 1, exec: 255) with an error in its
 * JSON log when it failed itself: the log is read only then.
 */
function containerProcess(agent: AgentClient, exec: GuestExec, log: string, failureStatus: number): ContainerProcess {
  const exited = exec.exited.then(async (status): Promise<ContainerExit> => {
    const out: ContainerExit = { exitCode: status.exitCode, signal: status.signal };
    if (status.signal === 0 && status.exitCode === failureStatus) {
      const r = await collect(agent, ['/bin/cat', log]).catch(() => undefined);
      const errors = r === undefined ? [] : runcErrors(r.stdout);
      if (errors.length > 0) out.runtimeError = errors.join('; ');
    }
    return out;
  });
  exited.catch(() => undefined);
  return { exec, exited };
}

/**
 * Creates and starts the container `id` from `bundle` (`runc run --keep`, foreground) with
 * `stdio` as its stdio; for a terminal pass `{ stdin: 'stdout', stdout: 'open' }` and
 * `terminal: true`. Resolves once runc runs; `started` settles when the container runs,
 * `exited` when its init ends.
 */
export async function runContainer(agent: AgentClient, o: RunOptions, stdio: ExecStdio = {}): Promise<RunningContainer> {
  validateContainerId(o.id);
  await ensureRuntime(agent);
  const log = runFile(o.id, 'run.json');
  const pidFile = runFile(o.id, 'init.pid');
  const argv = [RUNC_PATH, '--root', RUNC_ROOT, '--log', log, '--log-format', 'json', 'run', '--keep', '--pid-file', pidFile, '--bundle', o.bundle, o.id];
  const exec = await execWithStreams(agent, { args: argv, terminal: o.terminal === true, rows: o.rows, cols: o.cols }, stdio);
  const proc = containerProcess(agent, exec, log, 1);
  const started = waitStarted(agent, o.id, pidFile, proc, o.startTimeoutMs ?? 30_000);
  started.catch(() => undefined);
  return { ...proc, started };
}

/** The container's pid from runc's pid file, once written (see RunningContainer.started). */
async function waitStarted(agent: AgentClient, id: string, pidFile: string, p: ContainerProcess, timeoutMs: number): Promise<number> {
  let content: Buffer;
  try {
    content = await agent.waitFile({ path: pidFile, whileExecId: p.exec.execId, timeoutMs, maxBytes: 32 });
  } catch (err) {
    if (!(err instanceof VesselError && err.code === 'FAILED_PRECONDITION')) throw err;
    const e = await p.exited; // runc ended before the container ran
    throw new VesselError('FAILED_PRECONDITION', `container ${id} did not start: ${e.runtimeError ?? `runc exited with status ${e.exitCode}${e.signal ? ` (signal ${e.signal})` : ''}`}`, { cause: err });
  }
  const pid = Number(content.toString('utf8').trim());
  if (!Number.isInteger(pid) || pid < 1) throw new VesselError('INTERNAL', `runc's pid file of ${id} holds ${JSON.stringify(content.toString('utf8'))}`);
  return pid;
}

export interface ExecOptions {
  id: string;
  /**
   * A JSON OCI process (runtime-spec `process`) in the guest, e.g. written next to the
   * bundle; when given, the fields below except terminal/rows/cols are not used.
   */
  processPath?: string;
  /** Otherwise: the container's own process with these changes (runc exec's flags). */
  args?: string[];
  env?: string[];
  cwd?: string;
  user?: { uid: number; gid: number; additionalGids?: number[] };
  terminal?: boolean;
  rows?: number;
  cols?: number;
}

export interface ExecProcess extends ContainerProcess {
  /**
   * Signals the process runc exec started (not runc: it cannot relay SIGKILL), by its pid
   * from runc's --pid-file; one that has exited is FAILED_PRECONDITION.
   */
  signal(signal: number): Promise<void>;
}

/** Starts another process in the running container `id` (`runc exec`, foreground). */
export async function execInContainer(agent: AgentClient, o: ExecOptions, stdio: ExecStdio = {}): Promise<ExecProcess> {
  validateContainerId(o.id);
  await ensureRuntime(agent);
  const name = `exec-${process.pid}-${++execSeq}`;
  const log = runFile(o.id, `${name}.json`);
  const pidFile = runFile(o.id, `${name}.pid`);
  const args = [RUNC_PATH, '--root', RUNC_ROOT, '--log', log, '--log-format', 'json', 'exec', '--pid-file', pidFile];
  if (o.processPath !== undefined) {
    args.push('--process', o.processPath);
  } else {
    if (o.args === undefined || o.args.length === 0) throw new VesselError('INVALID_ARGUMENT', 'execInContainer needs args or processPath');
    if (o.terminal) args.push('--tty');
    if (o.cwd !== undefined) args.push('--cwd', o.cwd);
    for (const e of o.env ?? []) args.push('--env', e);
    if (o.user !== undefined) {
      args.push('--user', `${o.user.uid}:${o.user.gid}`);
      if (o.user.additionalGids?.length) args.push('--additional-gids', o.user.additionalGids.join(','));
    }
  }
  args.push(o.id);
  // (runc's flags end at the id: what follows is the command, even when it starts with '-'.)
  if (o.processPath === undefined) args.push(...o.args!);
  const exec = await execWithStreams(agent, { args, terminal: o.terminal === true, rows: o.rows, cols: o.cols }, stdio);
  const proc = containerProcess(agent, exec, log, 255);
  let ended = false;
  void proc.exited.finally(() => (ended = true)).catch(() => undefined);
  return {
    ...proc,
    signal: async (signal: number) => {
      if (!Number.isInteger(signal) || signal < 1 || signal > 64) throw new VesselError('INVALID_ARGUMENT', `bad signal ${signal}`);
      if (ended) throw new VesselError('FAILED_PRECONDITION', `exec ${name} of container ${o.id} has exited`);
      // the pid file names the process in the guest's PID namespace; it is gone with runc's exit
      const r = await collect(agent, ['/bin/sh', '-c', 'p=$(cat "$1" 2>/dev/null) && [ -n "$p" ] && exec kill -"$2" "$p"', 'kill', pidFile, String(signal)]);
      if (r.exitCode !== 0 || r.signal !== 0) {
        throw new VesselError('FAILED_PRECONDITION', `exec ${name} of container ${o.id} has no process to signal${r.stderr ? `: ${r.stderr.trim()}` : ''}`);
      }
    },
  };
}

/**
 * Sends `signal` (a number or a name such as "KILL") to the container's init (`runc kill`).
 * runc signals every process of the container when it has no PID namespace of its own and
 * the signal is SIGKILL; with its own PID namespace, killing init ends them all. `all`
 * also makes a container that already stopped no error.
 */
export async function killContainer(agent: AgentClient, id: string, signal: number | string = 'TERM', opts: { all?: boolean } = {}): Promise<void> {
  await runcCommand(agent, 'kill', id, ['kill', ...(opts.all ? ['--all'] : []), id, String(signal)]);
}

/** Freezes every process of the running container (`runc pause`: its cgroup's freezer). */
export async function pauseContainer(agent: AgentClient, id: string): Promise<void> {
  await runcCommand(agent, 'pause', id, ['pause', id]);
}

/** Thaws a container pauseContainer froze (`runc resume`). */
export async function resumeContainer(agent: AgentClient, id: string): Promise<void> {
  await runcCommand(agent, 'resume', id, ['resume', id]);
}

/**
 * Removes the container (`runc delete --force`: a running one is killed first), its cgroup
 * and its runc logs; one that does not exist is no error.
 */
export async function deleteContainer(agent: AgentClient, id: string): Promise<void> {
  validateContainerId(id);
  await ensureRuntime(agent);
  const script = '"$0" --root "$1" --log-format json delete --force "$2"; rc=$?; rm -f "$3"@*; exit $rc';
  const r = await collect(agent, ['/bin/sh', '-c', script, RUNC_PATH, RUNC_ROOT, id, `${LOG_DIR}/${id}`]);
  if (r.exitCode === 0 && r.signal === 0) return;
  const err = runcError('delete', id, runcErrors(r.stderr), r);
  if (err.code !== 'NOT_FOUND') throw err;
}

/** runc's state of a container (`runc state`): status is creating, created, running, paused or stopped. */
export interface ContainerState {
  id: string;
  pid: number;
  status: string;
  bundle: string;
  rootfs: string;
  created: string;
  annotations?: Record<string, string>;
}

export async function containerState(agent: AgentClient, id: string): Promise<ContainerState> {
  const s = JSON.parse(await runcCommand(agent, 'state', id, ['state', id])) as ContainerState;
  if (typeof s.pid !== 'number' || typeof s.status !== 'string') throw new VesselError('INTERNAL', `runc state ${id}: unexpected output`);
  return s;
}

/** The guest pids of the container's processes (`runc ps --format json`). */
export async function containerPids(agent: AgentClient, id: string): Promise<number[]> {
  const pids = JSON.parse(await runcCommand(agent, 'ps', id, ['ps', '--format', 'json', id])) as unknown;
  if (!Array.isArray(pids) || !pids.every((p) => Number.isInteger(p))) throw new VesselError('INTERNAL', `runc ps ${id}: unexpected output`);
  return pids as number[];
}

/**
 * Where runc puts a container whose spec has no cgroupsPath: beside its own cgroup, which
 * in the guest is the runc exec's (the agent's /vessel/exec/exec@<n>), so /vessel/exec/<id>,
 * inside the agent's workload subtree. A spec's cgroupsPath should stay below /vessel too
 * (the shim's: /vessel/containers/<id>): elsewhere the container escapes the limits that
 * keep the agent's reserve.
 */
export const RUNC_DEFAULT_CGROUP_PARENT = '/vessel/exec';

/**
 * How often the kernel's OOM killer killed a process in the container's cgroup (its
 * memory.events `oom_kill`): a container that exited 137 with a count above 0 was
 * OOM-killed. Readable until deleteContainer (runContainer keeps the stopped container).
 * `cgroupsPath` is the spec's linux.cgroupsPath (cgroupfs form); without one, runc's
 * default in the guest (RUNC_DEFAULT_CGROUP_PARENT/<id>).
 */
export async function containerOomKills(agent: AgentClient, id: string, cgroupsPath?: string): Promise<number> {
  validateContainerId(id);
  const cg = cgroupsPath === undefined || cgroupsPath === '' ? `${RUNC_DEFAULT_CGROUP_PARENT}/${id}` : cgroupsPath;
  if (!cg.startsWith('/') || cg.split('/').some((p) => p === '..' || p === '.') || cg.includes('\0'))
    throw new VesselError('INVALID_ARGUMENT', `cgroupsPath must be an absolute cgroupfs path without . or .., got ${JSON.stringify(cg)}`);
  const file = `/sys/fs/cgroup${cg.replace(/\/+$/, '')}/memory.events`;
  const r = await collect(agent, ['/bin/cat', file]);
  if (r.exitCode !== 0 || r.signal !== 0) throw new VesselError('NOT_FOUND', `${file}: ${r.stderr.trim() || 'cannot be read'} (container ${id} deleted, or another cgroupsPath)`);
  const m = /^oom_kill (\d+)$/m.exec(r.stdout);
  if (m === null) throw new VesselError('INTERNAL', `${file} has no oom_kill line`);
  return Number(m[1]);
}

/** runc's statistics of a running container (`runc events --stats`: the `data` of its stats event, runc's types.Stats). */
export interface ContainerStats {
  cpu?: { usage?: { total?: number; percpu?: number[]; kernel?: number; user?: number }; throttling?: Record<string, number> };
  memory?: { usage?: { limit?: number; usage?: number; max?: number; failcnt?: number }; raw?: Record<string, number> } & Record<string, unknown>;
  pids?: { current?: number; limit?: number };
  [k: string]: unknown;
}

export async function containerStats(agent: AgentClient, id: string): Promise<ContainerStats> {
  const ev = JSON.parse(await runcCommand(agent, 'events', id, ['events', '--stats', id])) as { type?: string; data?: ContainerStats };
  if (ev.type !== 'stats' || typeof ev.data !== 'object' || ev.data === null) throw new VesselError('INTERNAL', `runc events --stats ${id}: unexpected output`);
  return ev.data;
}
