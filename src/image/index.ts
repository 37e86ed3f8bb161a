// Contract: guest images for vessel VMs. An image is a kernel (vmlinuz from Debian's
// linux-image-cloud-amd64, resolved and downloaded with apt into $VESSEL_HOME, never /boot),
// an initramfs written here (cpio newc, optionally gzip) holding the static Go agent as
// /init, static busybox, and the virtio/fuse/overlay/vsock modules in dependency order
// (layout: see initramfs.ts), and a tools disk (raw ext4, attached read-only, mounted on
// first use) holding a static runc built from its Go module (runc.ts, tools-disk.ts).
// Images are cached in `$VESSEL_HOME/images/<id>/` (default ~/.cache/vessel) with a
// manifest of inputs and artifact sha256s; <id> is derived from the inputs, so a changed
// agent source, kernel package, busybox or runc input gives a new image.
// `ensureDefaultImage` reuses a cached image only after verifying every artifact's sha256
// and rebuilds it otherwise; builds are atomic (temp dir + rename) and serialized across
// processes per id. Every failure is a VesselError: TOOL_MISSING (with what to install),
// IMAGE_BUILD_FAILED, IMAGE_CORRUPT, INVALID_ARGUMENT.
// Progress (`onProgress`): phases 'download kernel' (done/total bytes), 'unpack', 'modules'
// (done/total), 'agent build', 'initramfs write' (done/total bytes), 'runc build', 'tools
// disk write', and 'log' (a message such as why an image is rebuilt; also sent to
// `logger.info`).
// Files: types.ts (shapes), inputs.ts (inputs and id), cache-layout.ts (names on disk),
// verify.ts, recorded.ts (an install-time image, verified only), lock.ts (per-id
// cross-process lock), build.ts (artifacts), install.ts (verified reuse or atomic build),
// list.ts, prune.ts; kernel/modules/agent/busybox/initramfs/cpio/runc/tools-disk make the
// pieces. $VESSEL_HOME comes from src/host.
import { ensureImage, rebuildImage } from './install.js';
import { listImagesIn } from './list.js';
import { pruneImagesIn } from './prune.js';
import type { GuestImage, ImageListEntry, ImageOptions } from './types.js';

export { verifyImage } from './verify.js';
export { loadVerifiedImage } from './recorded.js';
export { defaultAgentDir } from './repo.js';
export { BUILDER_VERSION } from './inputs.js';
export type { BuildProgress, Compression, GuestImage, ImageInputs, ImageListEntry, ImageManifest, ImageOptions, ArtifactRecord } from './types.js';
export { AGENT_MODULES } from './modules.js';
export { RUNC_VERSION } from './runc.js';
export { RUNC_IN_TOOLS } from './tools-disk.js';

/** Build on first use, else verified reuse (rebuilds, with a log line, when verification fails). */
export async function ensureDefaultImage(opts: ImageOptions = {}): Promise<GuestImage> {
  return ensureImage(opts);
}

/** Force a (re)build of the image for these options. */
export async function buildImage(opts: ImageOptions = {}): Promise<GuestImage> {
  return rebuildImage(opts);
}

export async function listImages(home?: string): Promise<ImageListEntry[]> {
  return listImagesIn(home);
}

/** Removes every image except those built from the current default inputs (or all with `all`). */
export async function pruneImages(opts: { home?: string; all?: boolean } = {}): Promise<{ removed: string[] }> {
  return pruneImagesIn(opts);
}
