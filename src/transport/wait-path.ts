// waitForSocketPath: wait until a child process has created its listening socket, without
// connecting to it (virtiofsd serves exactly one connection, so a probe would use it up).
import fs from 'node:fs';
import path from 'node:path';
import { VesselError } from '../errors/index.js';
import type { ConnectOptions } from './unix-socket.js';

function isSocket(p: string): boolean {
  try {
    return fs.statSync(p).isSocket();
  } catch {
    return false;
  }
}

export async function waitForSocketPath(socketPath: string, opts: ConnectOptions): Promise<void> {
  const what = opts.what ?? socketPath;
  if (isSocket(socketPath)) return;
  // fs.watch reports the creation; the bounded re-check interval covers an event lost to a
  // rename or a watcher that starts after the file appeared.
  const watcher = fs.watch(path.dirname(socketPath));
  try {
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (isSocket(socketPath)) return done();
        if (opts.alive && !opts.alive()) return done(new VesselError('UNAVAILABLE', `${what}: the process that should create it has exited`));
        if (opts.signal?.aborted) return done(new VesselError('UNAVAILABLE', `${what}: aborted`));
        if (Date.now() >= opts.deadline) return done(new VesselError('UNAVAILABLE', `${what} did not appear in time`));
      };
      const timer = setInterval(check, 20);
      const done = (err?: Error) => {
        clearInterval(timer);
        watcher.off('change', check);
        if (err) reject(err);
        else resolve();
      };
      watcher.on('change', check);
      watcher.on('error', check);
      check();
    });
  } finally {
    watcher.close();
  }
}
