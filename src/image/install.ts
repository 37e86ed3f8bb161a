// Getting an image into the cache: reuse only after full verification, else build into a
// temp directory under the id's lock, verify the result, and rename it into place
// (cache-layout.ts). A failed build leaves nothing under the image's name; every failure is
// a VesselError (IMAGE_BUILD_FAILED unless a more precise code was raised).
import fs from 'node:fs/promises';
import path from 'node:path';
import { VesselError, isVesselError } from '../errors/index.js';
import { buildInto } from './build.js';
import { imageDir, imagesDir, lockPath, tempPrefix, trashPath } from './cache-layout.js';
import { resolveInputs, type ResolvedInputs } from './inputs.js';
import { withLock } from './lock.js';
import type { GuestImage, ImageOptions, ImageSourceOverrides } from './types.js';
import { verifyImage } from './verify.js';

/** A log line goes to the caller's logger and to its progress callback. */
function logger(opts: ImageOptions): (msg: string) => void {
  return (msg) => {
    opts.logger?.info(msg);
    opts.onProgress?.({ phase: 'log', message: msg });
  };
}

async function buildAndInstall(r: ResolvedInputs, opts: ImageOptions, replaceValid: boolean): Promise<GuestImage> {
  const log = logger(opts);
  await fs.mkdir(imagesDir(r.home), { recursive: true });
  const dir = imageDir(r.home, r.id);
  return withLock(lockPath(r.home, r.id), log, async () => {
    if (!replaceValid) {
      // Another process may have built it while we waited for the lock.
      try {
        return await verifyImage(dir, r);
      } catch (err) {
        if (!isVesselError(err, 'IMAGE_NOT_FOUND')) log(`image ${r.id} is unusable, rebuilding: ${(err as Error).message}`);
      }
    }
    const tmp = await fs.mkdtemp(tempPrefix(r.home, r.id));
    try {
      const started = Date.now();
      await fs.chmod(tmp, 0o755); // mkdtemp makes it 0700; images are readable like any cache
      await buildInto(tmp, r, opts.onProgress);
      const built = await verifyImage(tmp, r);
      const aside = trashPath(r.home, r.id);
      const moved = await fs.rename(dir, aside).then(
        () => true,
        (err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return false;
          throw err;
        },
      );
      await fs.rename(tmp, dir);
      if (moved) await fs.rm(aside, { recursive: true, force: true });
      log(`built image ${r.id} (kernel ${built.kernelRelease}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return {
        ...built,
        dir,
        kernelPath: path.join(dir, path.basename(built.kernelPath)),
        initrdPath: path.join(dir, path.basename(built.initrdPath)),
        toolsDiskPath: built.toolsDiskPath === undefined ? undefined : path.join(dir, path.basename(built.toolsDiskPath)),
      };
    } catch (err) {
      await fs.rm(tmp, { recursive: true, force: true });
      if (err instanceof VesselError) throw err;
      throw new VesselError('IMAGE_BUILD_FAILED', `building image ${r.id} failed: ${(err as Error).message}`, { cause: err });
    }
  });
}

/** The default image for these options: verified reuse, or a build on first use (or after corruption). */
export async function ensureImage(opts: ImageOptions & ImageSourceOverrides = {}): Promise<GuestImage> {
  const r = await resolveInputs(opts);
  if (opts.force) return buildAndInstall(r, opts, true);
  try {
    return await verifyImage(imageDir(r.home, r.id), r);
  } catch (err) {
    if (!isVesselError(err, 'IMAGE_NOT_FOUND')) logger(opts)(`image ${r.id} failed verification, rebuilding: ${(err as Error).message}`);
  }
  return buildAndInstall(r, opts, false);
}

/** Builds (or rebuilds) the image for these options even when a valid one exists. */
export async function rebuildImage(opts: ImageOptions & ImageSourceOverrides = {}): Promise<GuestImage> {
  const r = await resolveInputs(opts);
  return buildAndInstall(r, opts, true);
}
