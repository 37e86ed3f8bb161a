// Contract: the image's tools disk, a raw ext4 filesystem image (no journal: it is only ever
// attached read-only) holding guest programs that are too big for the initramfs, which the
// kernel copies into RAM at every boot: today `/bin/runc` (about 9 MiB). The VM attaches it
// read-only to every guest and the agent mounts it on first use (src/agent/runc.ts), so it
// costs the boot nothing. Written with e2fsprogs' `mke2fs -d` from a staging directory.
import fs from 'node:fs/promises';
import path from 'node:path';
import { run } from './tools.js';

/** runc's path inside the tools disk (src/agent/runc.ts runs it from the mount point). */
export const RUNC_IN_TOOLS = 'bin/runc';
export const TOOLS_LABEL = 'vessel-tools';

const BLOCK = 4096;
/** The ext4 directory hash seed (random by default, which would make every build differ). */
const HASH_SEED = '6f8a1b8e-0000-4000-8000-766573736c00';

export interface ToolsFile {
  /** Relative path inside the disk. */
  path: string;
  data: Buffer;
  mode: number;
}

/**
 * Writes the ext4 image `file` (a new file) holding `files`; `work` is an empty scratch
 * directory. The same files give the same bytes: the UUID is clear, the directory hash seed
 * fixed, e2fsprogs' clock is pinned (E2FSPROGS_FAKE_TIME) and every inode's times are reset
 * to 0 afterwards (mke2fs -d copies the staging files' ctime, which cannot be set).
 */
export async function writeToolsDisk(file: string, work: string, files: readonly ToolsFile[]): Promise<void> {
  let blocks = 0;
  const inodes = new Set<string>(['/']);
  await fs.chmod(work, 0o755); // mke2fs -d gives the disk's root the directory's mode
  for (const f of files) {
    if (path.isAbsolute(f.path) || path.posix.normalize(f.path) !== f.path || f.path.startsWith('..')) throw new Error(`bad tools disk path ${f.path}`);
    const target = path.join(work, f.path);
    await fs.mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
    await fs.writeFile(target, f.data, { mode: f.mode });
    await fs.chmod(target, f.mode);
    blocks += Math.ceil(f.data.length / BLOCK) + 1;
    for (let p = `/${f.path}`; p !== '/'; p = path.posix.dirname(p)) inodes.add(p);
  }
  // Data plus 10% and 1 MiB for metadata (inode table, bitmaps, directories).
  const sizeKiB = Math.ceil((blocks * BLOCK * 1.1) / 1024) + 1024;
  const env = { ...process.env, E2FSPROGS_FAKE_TIME: '1' };
  // ^resize_inode: never grown; -N 64: a handful of files; -m 0: no reserved blocks.
  await run(
    'mke2fs',
    [
      '-q',
      '-F',
      '-t',
      'ext4',
      '-O',
      '^has_journal,^resize_inode',
      '-b',
      String(BLOCK),
      '-m',
      '0',
      '-N',
      '64',
      '-L',
      TOOLS_LABEL,
      '-U',
      'clear',
      '-E',
      `hash_seed=${HASH_SEED}`,
      '-d',
      work,
      file,
      `${sizeKiB}k`,
    ],
    { env },
  );
  const script = path.join(path.dirname(work), 'tools-times.debugfs');
  await fs.writeFile(script, [...inodes].flatMap((p) => ['ctime', 'mtime', 'atime'].map((t) => `set_inode_field ${p} ${t} 0\n`)).join(''));
  await run('debugfs', ['-w', '-f', script, file], { env });
  await fs.rm(script);
}
