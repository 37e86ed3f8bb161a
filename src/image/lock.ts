// A cross-process lock per image id: the lock file is created with O_EXCL and holds the
// holder's pid and start time (`<pid> <startTime>\n`; a lock with only a pid, as older
// vessels wrote, is checked by pid alone). A lock whose holder is gone is stale and is
// broken; an empty lock file is a holder between open and write, stale only when old.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import { isAlive, pidExists, selfIdentity } from '../host/index.js';
import { VesselError } from '../errors/index.js';

const LOCK_WAIT_MS = 15 * 60_000;
const LOCK_POLL_MS = 200;
/** How long an empty lock file may stand before its creator counts as gone. */
const EMPTY_LOCK_GRACE_MS = 10_000;

/** The pid holding the lock at `lockPath` ('?' while it is being written) and whether that holder is gone. */
export async function inspectLock(lockPath: string): Promise<{ holderPid: string; stale: boolean }> {
  const [text, st] = await Promise.all([fs.readFile(lockPath, 'utf8').catch(() => ''), fs.stat(lockPath).catch(() => undefined)]);
  const [pidText = '', startTime] = text.trim().split(/\s+/);
  if (pidText === '') return { holderPid: '?', stale: st !== undefined && Date.now() - st.mtimeMs > EMPTY_LOCK_GRACE_MS };
  const pid = Number.parseInt(pidText, 10);
  return { holderPid: pidText, stale: startTime === undefined ? !pidExists(pid) : !isAlive({ pid, startTime }) };
}

/** Runs `fn` holding the lock `lockPath`, waiting (bounded) while a live process holds it. */
export async function withLock<T>(lockPath: string, log: (msg: string) => void, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  let announced = false;
  for (;;) {
    try {
      const fh = await fs.open(lockPath, 'wx');
      const self = selfIdentity();
      await fh.writeFile(`${self.pid} ${self.startTime}\n`);
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const { holderPid: pid, stale } = await inspectLock(lockPath);
    if (stale) {
      log(`breaking stale image lock ${lockPath} (holder pid ${pid} is gone)`);
      // Rename first so that only one waiter breaks this particular stale file.
      const aside = `${lockPath}.stale-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
      await fs.rename(lockPath, aside).then(
        () => fs.rm(aside, { force: true }),
        () => {},
      );
      continue;
    }
    if (!announced) {
      log(`waiting for another vessel process (pid ${pid}) building the same image`);
      announced = true;
    }
    if (Date.now() > deadline) throw new VesselError('IMAGE_BUILD_FAILED', `timed out waiting for image lock ${lockPath} held by pid ${pid}`);
    await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lockPath, { force: true });
  }
}
