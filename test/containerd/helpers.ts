// Shared setup of the shim tests: a private containerd with the vessel shim on its PATH and
// a busybox image imported; helpers to find what a VM left behind.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { ensureDefaultImage } from '../../src/image/index.js';
import { shimLauncher } from '../../src/shim/index.js';
import { containerdLog, startContainerd, type PrivateContainerd } from '../support/containerd.js';
import { vmHelpersUnder } from '../support/host-processes.js';
import { buildOciImage } from '../support/oci-image.js';

export const RUNTIME = 'io.containerd.vessel.v2';
export const IMAGE = 'docker.io/library/vessel-shim:latest';

export async function containerdWithVessel(): Promise<PrivateContainerd> {
  await ensureDefaultImage();
  const c = await startContainerd({ shimBins: { 'containerd-shim-vessel-v2': shimLauncher() } });
  const work = path.join(c.dir, 'image');
  fs.mkdirSync(work);
  const img = await buildOciImage(work, { name: IMAGE, files: { 'etc/hostname': 'vessel-shim\n' } });
  const r = await c.ctr(['images', 'import', img.tarPath]);
  expect(r.code, r.stderr).toBe(0);
  return c;
}

/** qemu and virtiofsd processes whose command line names a path under `dir`. */
export const vmHelpers = vmHelpersUnder;

export function bundleOf(c: PrivateContainerd, id: string, namespace = 'default'): string {
  return path.join(c.dir, 'state', 'io.containerd.runtime.v2.task', namespace, id);
}

export function logTail(c: PrivateContainerd): string {
  return containerdLog(c).slice(-6000);
}

/** Polls an async condition (no event announces it) until it holds or `ms` pass. */
export async function eventually(what: string, cond: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
