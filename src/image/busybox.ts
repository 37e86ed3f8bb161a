// Contract: the host's static busybox (Debian busybox-static) as an image input: its bytes,
// sha256 and applet names. A missing or dynamically linked busybox is TOOL_MISSING.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import { isStaticElf } from './elf.js';
import { runText, toolMissing } from './tools.js';

export const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'];

export interface Busybox {
  path: string;
  data: Buffer;
  sha256: string;
}

export async function findBusybox(candidates: readonly string[] = BUSYBOX_CANDIDATES): Promise<Busybox> {
  for (const p of candidates) {
    let data: Buffer;
    try {
      data = await fs.readFile(p);
    } catch {
      continue;
    }
    let isStatic: boolean;
    try {
      isStatic = isStaticElf(data);
    } catch {
      isStatic = false;
    }
    if (!isStatic) throw toolMissing('busybox', ` (${p} is not a static binary: the guest has no shared libraries)`);
    return { path: p, data, sha256: crypto.createHash('sha256').update(data).digest('hex') };
  }
  throw toolMissing('busybox');
}

/** Applet names from `busybox --list`, validated as plain file names. */
export async function busyboxApplets(bb: Busybox): Promise<string[]> {
  const out = await runText(bb.path, ['--list']);
  const names = out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && l !== 'busybox');
  return [...new Set(names.filter((n) => /^[A-Za-z0-9_.[\]+-]+$/.test(n) && n !== '.' && n !== '..'))].sort();
}
