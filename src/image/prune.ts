// Pruning the cache: removes every image not built from the current default inputs (all of
// them with `all`), the leftovers of builders that are gone (temp and trash dirs, stale
// locks), and downloaded kernel packages no kept image was built from.
import fs from 'node:fs/promises';
import path from 'node:path';
import { pidExists, vesselHome } from '../host/index.js';
import { VesselError } from '../errors/index.js';
import { imagesDir, leftoverOf } from './cache-layout.js';
import { currentIds } from './inputs.js';
import { sha256File } from './kernel.js';
import { inspectLock } from './lock.js';
import type { ImageSourceOverrides } from './types.js';
import { readManifest } from './verify.js';

export async function pruneImagesIn(
  opts: { home?: string; all?: boolean } & ImageSourceOverrides & { agentDir?: string } = {},
): Promise<{ removed: string[] }> {
  const home = opts.home ?? vesselHome();
  const images = imagesDir(home);
  let keep = new Set<string>();
  if (!opts.all) {
    const cur = await currentIds(home, opts);
    if (cur === undefined)
      throw new VesselError(
        'IMAGE_BUILD_FAILED',
        'cannot resolve the current default image inputs, so cannot tell which image to keep (use --all to remove every image)',
      );
    keep = cur.keep;
  }
  const removed: string[] = [];
  const keptKernels = new Set<string>();
  for (const e of await fs.readdir(images, { withFileTypes: true }).catch(() => [])) {
    const full = path.join(images, e.name);
    if (e.name.startsWith('.')) {
      const left = leftoverOf(e.name);
      if (left === undefined) continue;
      const gone = left.kind === 'lock' ? (await inspectLock(full)).stale : !pidExists(left.pid);
      if (gone) await fs.rm(full, { recursive: true, force: true });
      continue;
    }
    if (!e.isDirectory()) continue;
    if (keep.has(e.name)) {
      const m = await readManifest(full).catch(() => undefined);
      if (m) keptKernels.add(m.inputs.kernel.debSha256);
      continue;
    }
    await fs.rm(full, { recursive: true, force: true });
    removed.push(e.name);
  }
  // Downloaded kernel packages no kept image was built from.
  const downloads = path.join(home, 'downloads');
  for (const f of await fs.readdir(downloads).catch(() => [] as string[])) {
    if (!f.endsWith('.deb')) continue;
    const file = path.join(downloads, f);
    if (!opts.all && keptKernels.size > 0 && keptKernels.has(await sha256File(file).catch(() => ''))) continue;
    if (!opts.all && keptKernels.size === 0) continue; // nothing built yet: keep the download for the first build
    await fs.rm(file, { force: true });
    removed.push(`downloads/${f}`);
  }
  return { removed };
}
