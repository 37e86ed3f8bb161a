// `start`: containers are grouped by pod, as containerd's runc v2 shim groups them: the
// group is the CRI sandbox id (annotation io.kubernetes.cri.sandbox-id), else the
// container's own id. If the group's server already listens (the sandbox's shim), its
// address is the answer; otherwise spawn the server detached (own session; stdio not
// inherited: containerd reads start's stdout+stderr pipe until EOF) and wait until it
// listens (a line on an extra pipe). Then print only `unix:///abs/socket` and write it to
// <bundle>/address.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import type { Readable } from 'node:stream';
import { VesselError } from '../errors/index.js';
import { serveArgv, type ShimArgs } from './args.js';
import { SANDBOX_ID, readBundleSpec } from './oci.js';
import { ensureRunDir, shimSocketPath } from './paths.js';

/** The pod a container's shim serves: its CRI sandbox's id, else its own. */
function groupId(bundle: string, id: string): string {
  let annotations: Record<string, string>;
  try {
    annotations = readBundleSpec(bundle).annotations;
  } catch {
    return id; // Create reports a bad config.json
  }
  return annotations[SANDBOX_ID] ?? id;
}

/** Whether a server accepts connections on `socket` (a file left by a dead one does not). */
function listening(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = net.connect(socket);
    const timer = setTimeout(() => done(false), 2_000);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      conn.destroy();
      resolve(ok);
    };
    conn.once('connect', () => done(true));
    conn.once('error', () => done(false));
  });
}

export async function startShim(a: ShimArgs, entry: string, stdout: NodeJS.WritableStream): Promise<number> {
  const bundle = process.cwd();
  ensureRunDir();
  const socket = shimSocketPath(a.namespace, groupId(bundle, a.id));
  if (await listening(socket)) return announce(bundle, socket, stdout);
  fs.rmSync(socket, { force: true });
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
  return announce(bundle, socket, stdout);
}

function announce(bundle: string, socket: string, stdout: NodeJS.WritableStream): number {
  const address = `unix://${socket}`;
  fs.writeFileSync(`${bundle}/address`, address);
  stdout.write(address);
  return 0;
}
