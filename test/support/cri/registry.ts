// A local OCI registry for critest's image specs: go-containerregistry's in-memory
// `registry` (installed into .interop-bin by scripts/critest.sh) on 127.0.0.1, a free port,
// dying with this process (setpriv --pdeathsig); stop() ends it by PID.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../repo.js';

export const REGISTRY_BIN = path.join(repoRoot, '.interop-bin', 'registry');

export interface LocalRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  stop(): Promise<void>;
}

export async function startRegistry(): Promise<LocalRegistry> {
  const p = spawn('setpriv', ['--pdeathsig', 'KILL', '--', REGISTRY_BIN, '-port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
  let text = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`registry: no "serving on port" within 10 s: ${text}`)), 10_000);
    p.stderr.on('data', (b: Buffer) => {
      text += b.toString();
      const m = /serving on port (\d+)/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`registry exited: ${text}`));
    });
  });
  p.stderr.resume();
  return {
    host: `127.0.0.1:${port}`,
    async stop() {
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      await exited;
    },
  };
}
