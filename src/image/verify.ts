// Reading and verifying an image directory: the manifest must be a vessel manifest (for the
// expected id and inputs, when given), and every artifact must be a plain file name in the
// directory with the size and sha256 the manifest records.
import fs from 'node:fs/promises';
import path from 'node:path';
import { VesselError } from '../errors/index.js';
import { MANIFEST_FILE } from './cache-layout.js';
import { canonicalJson } from './inputs.js';
import { sha256File } from './kernel.js';
import type { GuestImage, ImageInputs, ImageManifest } from './types.js';

/** The manifest of `dir`, checked only for its shape (not against the files). */
export async function readManifest(dir: string): Promise<ImageManifest> {
  const m = JSON.parse(await fs.readFile(path.join(dir, MANIFEST_FILE), 'utf8')) as ImageManifest;
  if (m?.schemaVersion !== 1 || typeof m.id !== 'string' || m.artifacts?.kernel === undefined || m.artifacts?.initrd === undefined) {
    throw new Error(`${MANIFEST_FILE} is not a vessel image manifest`);
  }
  return m;
}

/** Loads and fully verifies an image directory; throws IMAGE_CORRUPT (or IMAGE_NOT_FOUND) saying why. */
export async function verifyImage(dir: string, expect?: { id: string; inputs: ImageInputs }): Promise<GuestImage> {
  let m: ImageManifest;
  try {
    m = await readManifest(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new VesselError('IMAGE_NOT_FOUND', `no image in ${dir}`);
    throw new VesselError('IMAGE_CORRUPT', `${dir}/${MANIFEST_FILE}: ${(err as Error).message}`, { cause: err });
  }
  if (expect !== undefined && (m.id !== expect.id || canonicalJson(m.inputs) !== canonicalJson(expect.inputs))) {
    throw new VesselError('IMAGE_CORRUPT', `${dir}/${MANIFEST_FILE} does not describe image ${expect.id}`);
  }
  for (const [what, a] of Object.entries(m.artifacts) as Array<[string, ImageManifest['artifacts']['kernel']]>) {
    if (typeof a.path !== 'string' || a.path !== path.basename(a.path) || a.path === '..' || a.path === '.') {
      throw new VesselError('IMAGE_CORRUPT', `${dir}: bad ${what} artifact path ${JSON.stringify(a.path)}`);
    }
    const file = path.join(dir, a.path);
    let size: number;
    try {
      size = (await fs.stat(file)).size;
    } catch {
      throw new VesselError('IMAGE_CORRUPT', `${file} is missing`);
    }
    if (size !== a.size) throw new VesselError('IMAGE_CORRUPT', `${file} has ${size} bytes, the manifest says ${a.size}`);
    const sha = await sha256File(file);
    if (sha !== a.sha256) throw new VesselError('IMAGE_CORRUPT', `${file} has sha256 ${sha}, the manifest says ${a.sha256}`);
  }
  return {
    id: m.id,
    dir,
    kernelPath: path.join(dir, m.artifacts.kernel.path),
    initrdPath: path.join(dir, m.artifacts.initrd.path),
    toolsDiskPath: m.artifacts.tools === undefined ? undefined : path.join(dir, m.artifacts.tools.path),
    kernelRelease: m.kernelRelease,
    manifest: m,
  };
}
