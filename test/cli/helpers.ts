// Shared by the CLI tests: a private VESSEL_HOME that reuses the real image cache (so no
// image is rebuilt) but has its own instances/, fake stdio for in-process runs, the
// compiled CLI as a child process, and a check that nothing a run started is left.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { vesselHome } from '../../src/host/index.js';
import { ensureDefaultImage } from '../../src/image/index.js';
import { repoRoot } from '../support/repo.js';
import { makePrivateTempDir } from '../support/tmpdir.js';

export const vesselBin = path.join(repoRoot, 'bin', 'vessel.js');

export interface TestHome {
  dir: string;
  instances: string;
  restore: () => Promise<void>;
}

/** Ensures the default image in the real home, then points VESSEL_HOME at a fresh dir sharing its caches. */
export async function useTestHome(): Promise<TestHome> {
  await ensureDefaultImage();
  const real = vesselHome();
  const home = await makePrivateTempDir('cli-home');
  for (const shared of ['images', 'downloads', 'apt-kernel.json']) {
    if (fs.existsSync(path.join(real, shared))) fs.symlinkSync(path.join(real, shared), path.join(home.dir, shared));
  }
  const saved = process.env.VESSEL_HOME;
  process.env.VESSEL_HOME = home.dir;
  return {
    dir: home.dir,
    instances: path.join(home.dir, 'instances'),
    restore: async () => {
      if (saved === undefined) delete process.env.VESSEL_HOME;
      else process.env.VESSEL_HOME = saved;
      await home.remove();
    },
  };
}

export type Sink = PassThrough & { isTTY?: boolean; text: () => string; bytes: () => Buffer };

export function sink(): Sink {
  const s = new PassThrough() as Sink;
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  s.text = () => Buffer.concat(chunks).toString();
  s.bytes = () => Buffer.concat(chunks);
  return s;
}

/** Entries left in the instances dir. */
export function instanceDirs(home: TestHome): string[] {
  return fs.existsSync(home.instances) ? fs.readdirSync(home.instances) : [];
}

/**
 * Live processes started under this test home: every helper vessel starts inherits
 * VESSEL_HOME, so its environment names the home (other sessions' VMs never match).
 */
export function processesOf(home: TestHome): Array<{ pid: number; comm: string }> {
  const marker = Buffer.from(`VESSEL_HOME=${home.dir}\0`);
  const out: Array<{ pid: number; comm: string }> = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const env = fs.readFileSync(`/proc/${name}/environ`);
      if (!env.includes(marker)) continue;
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      if (/\) [ZX] /.test(stat)) continue;
      out.push({ pid: Number(name), comm: fs.readFileSync(`/proc/${name}/comm`, 'utf8').trim() });
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

export interface Child {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when stdout contains `text`. */
  waitForStdout: (text: string) => Promise<void>;
  /** Resolves when stderr contains `text` (or matches it). */
  waitForStderr: (text: string | RegExp) => Promise<void>;
}

/** `detached`: the child leads a process group of its own (as a terminal's foreground job does), so `-pid` signals the whole group. */
export function spawnChild(command: string, args: string[], env: NodeJS.ProcessEnv = {}, opts: { detached?: boolean } = {}): Child {
  const proc = spawn(command, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'], detached: opts.detached ?? false });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  proc.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    for (const w of [...waiters]) w();
  });
  proc.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
    for (const w of [...waiters]) w();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('close', (code, signal) => resolve({ code, signal })),
  );
  const waitFor = (name: string, text: string | RegExp, current: () => string) =>
    new Promise<void>((resolve, reject) => {
      const has = () => (typeof text === 'string' ? current().includes(text) : text.test(current()));
      const check = () => {
        if (has()) {
          waiters.delete(check);
          resolve();
        }
      };
      waiters.add(check);
      void exited.then(() => {
        if (!has()) reject(new Error(`exited before printing ${String(text)} on ${name}; stdout: ${out}; stderr: ${err}`));
      });
      check();
    });
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForStdout: (text) => waitFor('stdout', text, () => out),
    waitForStderr: (text) => waitFor('stderr', text, () => err),
  };
}
