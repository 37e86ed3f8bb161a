// `start`: spawn the server detached (own session; stdio not inherited: containerd reads
// start's stdout+stderr pipe until EOF), wait until it listens (a line on an extra pipe),
// then print only `unix:///abs/socket` and write it to <bundle>/address.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { VesselError } from '../errors/index.js';
import { serveArgv, type ShimArgs } from './args.js';
import { ensureRunDir, shimSocketPath } from './paths.js';

export async function startShim(a: ShimArgs, entry: string, stdout: NodeJS.WritableStream): Promise<number> {
  const bundle = process.cwd();
  ensureRunDir();
  const socket = shimSocketPath(a.namespace, a.id);
  const child = spawn(process.execPath, [entry, ...serveArgv(a, socket)], {
    cwd: bundle,
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    env: process.env,
  });
  const ready = child.stdio[3] as Readable;
  const ok = await new Promise<boolean>((resolve) => {
    let text = '';
    ready.on('data', (c: Buffer) => {
      text += c.toString();
      if (text.includes('ready\n')) resolve(true);
    });
    ready.once('end', () => resolve(text.includes('ready\n')));
    child.once('exit', () => resolve(false));
  });
  ready.destroy();
  if (!ok) throw new VesselError('START_FAILED', `the shim server exited before listening (see the containerd log for ${a.id})`);
  child.unref();
  const address = `unix://${socket}`;
  fs.writeFileSync(`${bundle}/address`, address);
  stdout.write(address);
  return 0;
}
