// The floor a VM puts under a container start: `runc run -d` of a small bundle (runc's
// default spec, a busybox rootfs on virtio-fs) timed by the guest's own clock inside one
// microVM like a pod's (default size, QEMU as chosen here), nothing of the host counted.
// No runtime that runs the container's OCI spec with runc in the guest can start a
// container faster than this on this host: bench/cri-pod sets it against runc's figure.
import fs from 'node:fs';
import path from 'node:path';
import { ensureRuntime } from '../src/agent/index.js';
import { QemuManager } from '../src/vm/index.js';
import { shInGuest } from '../test/support/guest-exec.js';
import { buildRootfs } from '../test/support/oci-image.js';
import { defaultSpec } from '../test/support/oci-spec.js';
import { makePrivateTempDir } from '../test/support/tmpdir.js';

const GUEST_SHARE = '/mnt/floor';
const RUNC = '/run/vessel/tools/bin/runc --root /run/runc';

/** `rounds` timings (ms, guest clock, 10 ms resolution) of `runc run -d` after one untimed warm-up. */
export async function guestRuncRunMs(rounds: number): Promise<number[]> {
  const tmp = await makePrivateTempDir('runc-floor');
  const share = path.join(tmp.dir, 'share');
  try {
    await buildRootfs(path.join(share, 'rootfs'), {});
    for (let i = 0; i <= rounds; i++) {
      const spec = defaultSpec(`${GUEST_SHARE}/rootfs`, ['sleep', '600']);
      spec.process.terminal = false;
      fs.mkdirSync(path.join(share, `b${i}`));
      fs.writeFileSync(path.join(share, `b${i}`, 'config.json'), JSON.stringify(spec));
    }
    const stateDir = path.join(tmp.dir, 'state');
    fs.mkdirSync(stateDir);
    const inst = await new QemuManager().newInstance(stateDir);
    inst.addFS('floor', share, { mountPoint: GUEST_SHARE });
    await inst.start({});
    try {
      await ensureRuntime(inst.client());
      const out: number[] = [];
      for (let i = 0; i <= rounds; i++) {
        const script = `s=$(cut -d' ' -f1 /proc/uptime); ${RUNC} run -d -b ${GUEST_SHARE}/b${i} c${i} </dev/null >/dev/null 2>&1 || exit 1; e=$(cut -d' ' -f1 /proc/uptime); ${RUNC} delete -f c${i}; echo $s $e`;
        const [s, e] = (await shInGuest(inst, script)).trim().split(' ').map(Number);
        if (i > 0) out.push(Math.round((e! - s!) * 1000));
      }
      return out;
    } finally {
      await inst.shutdown();
    }
  } finally {
    await tmp.remove();
  }
}
