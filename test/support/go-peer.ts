// Builds and runs the Go reference peer (agent/cmd/vessel-testpeer: real hashicorp/yamux and
// containerd/ttrpc). Every process started here is killed and reaped by stop(), by
// stopAllPeers() (afterAll), and — if the test process itself dies — by the peer's
// parent-death signal.
import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import readline from 'node:readline';
import { agentDir, testPeerBinary } from './repo.js';
import { makePrivateTempDir } from './tmpdir.js';

const execFileAsync = promisify(execFile);

let built: Promise<string> | undefined;

/** `go build` the peer once per process (fast when Go's build cache is warm). */
export function buildGoPeer(): Promise<string> {
  built ??= goBuildPeer();
  return built;
}

async function goBuildPeer(): Promise<string> {
  await execFileAsync('go', ['build', '-o', testPeerBinary, './cmd/vessel-testpeer'], {
    cwd: agentDir,
    env: { ...process.env, CGO_ENABLED: '0' },
    maxBuffer: 16 << 20,
  });
  return testPeerBinary;
}

export interface GoPeerProcess {
  readonly proc: ChildProcess;
  readonly stderr: () => string;
  /** Resolves with the exit code (or signal) once the process has been reaped. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const running = new Set<GoPeerProcess>();

function startPeerProcess(args: string[]): GoPeerProcess {
  const proc = spawn(testPeerBinary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderrText = '';
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (chunk: string) => {
    // keep the tail only: a chatty peer must not grow test memory without bound
    stderrText = (stderrText + chunk).slice(-64 * 1024);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => resolve({ code, signal }));
    proc.once('error', () => resolve({ code: null, signal: null }));
  });
  const peer: GoPeerProcess = {
    proc,
    stderr: () => stderrText,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill(signal);
        const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      running.delete(peer);
    },
  };
  running.add(peer);
  void exited.then(() => running.delete(peer));
  return peer;
}

export interface GoServer extends GoPeerProcess {
  readonly socketPath: string;
  stop(): Promise<void>;
}

export interface GoServerOptions {
  ttrpcOnly?: boolean;
  window?: number;
  streamCloseTimeoutMs?: number;
  keepaliveMs?: number;
  acceptBacklog?: number;
}

/** Starts `vessel-testpeer server` on a fresh unix socket and waits for its READY line. */
export async function startGoServer(options: GoServerOptions = {}): Promise<GoServer> {
  const tmp = await makePrivateTempDir('gopeer');
  const socketPath = path.join(tmp.dir, 'peer.sock');
  const args = ['server', '--listen', socketPath];
  if (options.ttrpcOnly) args.push('--ttrpc-only');
  if (options.window !== undefined) args.push('--window', String(options.window));
  if (options.streamCloseTimeoutMs !== undefined) args.push('--stream-close-timeout-ms', String(options.streamCloseTimeoutMs));
  if (options.keepaliveMs !== undefined) args.push('--keepalive-ms', String(options.keepaliveMs));
  if (options.acceptBacklog !== undefined) args.push('--accept-backlog', String(options.acceptBacklog));
  const peer = startPeerProcess(args);
  const lines = readline.createInterface({ input: peer.proc.stdout! });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Go peer not READY in 20 s: ${peer.stderr()}`)), 20_000);
      lines.on('line', (line) => {
        if (line.trim() === 'READY') {
          clearTimeout(timer);
          resolve();
        }
      });
      void peer.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`Go peer exited before READY (code ${code}, signal ${signal}): ${peer.stderr()}`));
      });
    });
  } catch (err) {
    await peer.kill('SIGKILL');
    await tmp.remove();
    throw err;
  }
  return Object.assign(peer, {
    socketPath,
    async stop() {
      lines.close();
      await peer.kill('SIGTERM');
      await tmp.remove();
    },
  });
}

export interface CheckResult {
  check: string;
  ok: boolean;
  ms: number;
  detail: string;
}

/** Runs `vessel-testpeer client` against a server socket; returns one result per check. */
export async function runGoClient(
  socketPath: string,
  checks: string[],
  options: { ttrpcOnly?: boolean; timeoutMs?: number } = {},
): Promise<{ results: CheckResult[]; code: number | null; stderr: string }> {
  const args = ['client', '--connect', socketPath, '--checks', checks.join(',')];
  if (options.ttrpcOnly) args.push('--ttrpc-only');
  const peer = startPeerProcess(args);
  const results: CheckResult[] = [];
  const lines = readline.createInterface({ input: peer.proc.stdout! });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    results.push(JSON.parse(line) as CheckResult);
  });
  const timer = setTimeout(() => void peer.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  const { code } = await peer.exited;
  clearTimeout(timer);
  return { results, code, stderr: peer.stderr() };
}

/** Runs a one-shot peer command (a benchmark) and returns its stdout JSON lines. */
export async function runGoPeerJson(args: string[], timeoutMs = 300_000): Promise<unknown[]> {
  const peer = startPeerProcess(args);
  const out: unknown[] = [];
  const lines = readline.createInterface({ input: peer.proc.stdout! });
  lines.on('line', (line) => {
    if (line.trim() !== '') out.push(JSON.parse(line));
  });
  const timer = setTimeout(() => void peer.kill('SIGKILL'), timeoutMs);
  const { code } = await peer.exited;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`vessel-testpeer ${args[0]} exited ${code}: ${peer.stderr()}`);
  return out;
}

/** Peers started by this process and not yet reaped. */
export function runningPeers(): GoPeerProcess[] {
  return [...running];
}

/** Kills and reaps every peer this process started (use in afterAll). */
export async function stopAllPeers(): Promise<void> {
  await Promise.all([...running].map((p) => p.kill('SIGKILL')));
}
