// `delete`: clean up after the shim server of a bundle, which may have crashed: end the
// VM's recorded helpers whose owner is gone, unmount the rootfs (and, for the bundle that
// booted the pod's VM, everything shared into the pod dir), remove the state dir and the
// socket; print a DeleteResponse (exit 128+SIGKILL, as containerd's runc shim
// reports a task it had to clean up). Safe to run twice and on a clean bundle.
import fs from 'node:fs';
import path from 'node:path';
import type { taskv2 } from '../gen/index.js';
import { encodeMessage } from '../ttrpc/index.js';
import { reapOrphans } from '../vm/index.js';
import type { ShimArgs } from './args.js';
import { readBundleSpec } from './oci.js';
import { bundleVmLink, existingVmStateDir, shimSocketPath } from './paths.js';
import { unmountTree } from './pod.js';
import { shimProtos, timestamp } from './protos.js';
import { unmountRootfs } from './rootfs.js';

export async function deleteShim(a: ShimArgs, stdout: NodeJS.WritableStream): Promise<number> {
  const bundle = path.resolve(a.bundle ?? process.cwd());
  const stateDir = existingVmStateDir(bundle);
  if (stateDir) await reapOrphans(stateDir);
  let rootfs = path.join(bundle, 'rootfs');
  try {
    rootfs = readBundleSpec(bundle).rootPath;
  } catch {
    // no readable config.json: the default place
  }
  // the pod's VM was booted from this bundle: what its containers shared with it is below
  // its state dir (the pod dir and the staged bundles, which hold binds of the rootfs)
  if (stateDir) await unmountTree(stateDir);
  await unmountRootfs(rootfs);
  fs.rmSync(bundleVmLink(bundle), { recursive: true, force: true });
  if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
  fs.rmSync(shimSocketPath(a.namespace, a.id), { force: true });
  const resp = encodeMessage<taskv2.DeleteResponse>(shimProtos().type('containerd.task.v2.DeleteResponse'), {
    pid: 0,
    exitStatus: 128 + 9,
    exitedAt: timestamp(Date.now()),
  });
  await new Promise<void>((resolve, reject) => stdout.write(Buffer.from(resp), (err) => (err ? reject(err) : resolve())));
  return 0;
}
