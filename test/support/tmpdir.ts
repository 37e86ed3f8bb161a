// Private temporary directories (0700) for sockets of one test, removed by the caller.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export async function makePrivateTempDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `vessel-${prefix}-`));
  await fs.chmod(dir, 0o700);
  return { dir, remove: () => fs.rm(dir, { recursive: true, force: true }) };
}
