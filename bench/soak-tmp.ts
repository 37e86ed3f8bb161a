// Temporary dirs of bench/soak that go even when a second signal makes the bench exit at
// once: each is also removed (synchronously) when the process exits, unless removed before.
import fs from 'node:fs';
import { makePrivateTempDir } from '../test/support/tmpdir.js';

/** Removes `dir` when the process exits; returns the cancel. */
export function removeAtExit(dir: string): () => void {
  const remove = () => fs.rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
  process.once('exit', remove);
  return () => process.off('exit', remove);
}

export async function soakTempDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const tmp = await makePrivateTempDir(prefix);
  const cancel = removeAtExit(tmp.dir);
  return {
    dir: tmp.dir,
    remove: async () => {
      cancel();
      await tmp.remove();
    },
  };
}
