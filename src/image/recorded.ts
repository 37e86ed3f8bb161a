// A guest image recorded at install time (`vessel containerd install`): loaded from its
// directory and verified against its manifest (every artifact's size and sha256), with no
// toolchain and no rebuild. An unusable one is IMAGE_NOT_FOUND (status FAILED_PRECONDITION:
// the image is a precondition of every VM) naming what is wrong and what to run.
import { VesselError, isVesselError } from '../errors/index.js';
import type { GuestImage } from './types.js';
import { verifyImage } from './verify.js';

/** The verified image in `dir`; `remedy` says how to record a good one (appended to the message). */
export async function loadVerifiedImage(dir: string, remedy: string): Promise<GuestImage> {
  try {
    return await verifyImage(dir);
  } catch (err) {
    const why = isVesselError(err, 'IMAGE_NOT_FOUND') ? `missing (no image in ${dir})` : `corrupt: ${(err as Error).message}`;
    throw new VesselError('IMAGE_NOT_FOUND', `the recorded guest image ${dir} is ${why}; ${remedy}`, { cause: err });
  }
}
