// Listing the images in the cache, newest first, marking the one built from the current
// default inputs. A directory without a readable manifest is still listed.
import fs from 'node:fs/promises';
import path from 'node:path';
import { vesselHome } from '../host/index.js';
import { imagesDir } from './cache-layout.js';
import { currentIds } from './inputs.js';
import type { ImageListEntry, ImageSourceOverrides } from './types.js';
import { readManifest } from './verify.js';

async function dirSize(dir: string): Promise<number> {
  let n = 0;
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) {
    if (e.isFile()) n += (await fs.stat(path.join(e.parentPath, e.name)).catch(() => ({ size: 0 }))).size;
  }
  return n;
}

export async function listImagesIn(home: string = vesselHome(), overrides: ImageSourceOverrides & { agentDir?: string } = {}): Promise<ImageListEntry[]> {
  const images = imagesDir(home);
  const names = (await fs.readdir(images, { withFileTypes: true }).catch(() => []))
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  const cur = names.length > 0 ? await currentIds(home, overrides) : undefined;
  const out: ImageListEntry[] = [];
  for (const id of names) {
    const dir = path.join(images, id);
    const m = await readManifest(dir).catch(() => undefined);
    out.push({
      id,
      dir,
      createdAt: m?.createdAt ?? '',
      sizeBytes: await dirSize(dir),
      kernelRelease: m?.kernelRelease ?? 'unknown (no manifest)',
      isDefault: cur?.defaultId === id,
    });
  }
  return out.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
}
