// The CRI tests' images, built without a registry (test/support/oci-image.ts) and imported
// into containerd's `k8s.io` namespace, where the CRI plugin finds them: a sandbox ("pause")
// image whose process idles until told to stop, and a busybox test image with users, a hostname file
// and a web root for busybox httpd.
import fs from 'node:fs';
import path from 'node:path';
import type { PrivateContainerd } from '../containerd.js';
import { buildOciImage, type OciImageOptions } from '../oci-image.js';

export const SANDBOX_IMAGE = 'docker.io/library/vessel-pause:latest';
export const TEST_IMAGE = 'docker.io/library/vessel-cri:latest';
/** What busybox httpd serves from /www in TEST_IMAGE. */
export const WWW_INDEX = 'vessel-cri index\n';

export const TEST_IMAGE_FILES: Record<string, string> = {
  'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
  'etc/group': 'root:x:0:\nnogroup:x:65534:\n',
  'etc/hostname': 'vessel-cri\n',
  'www/index.html': WWW_INDEX,
};

/**
 * The sandbox's process, as registry.k8s.io/pause: named `pause` (containers share the pod's
 * PID namespace by default, and specs look for their own `sleep`), blocked on opening a FIFO
 * of the image (the CRI makes the sandbox's rootfs read-only) until a signal ends it.
 */
const PAUSE = `#!/bin/sh
trap 'exit 0' TERM INT
while :; do read -r _ </pause.fifo; done
`;

/** Builds both images under `workDir` and imports them into namespace k8s.io. */
export async function importCriImages(c: PrivateContainerd, workDir: string): Promise<void> {
  const images: Array<[string, Omit<OciImageOptions, 'name'>]> = [
    [SANDBOX_IMAGE, { cmd: ['/pause'], executables: { pause: PAUSE }, fifos: ['pause.fifo'] }],
    [TEST_IMAGE, { files: TEST_IMAGE_FILES }],
  ];
  for (const [name, opts] of images) {
    const work = path.join(workDir, name.replace(/[^a-z0-9]+/g, '-'));
    fs.mkdirSync(work, { recursive: true });
    const img = await buildOciImage(work, { name, ...opts });
    const r = await c.ctr(['-n', 'k8s.io', 'images', 'import', img.tarPath], { timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`ctr -n k8s.io images import ${name}: ${r.stderr}`);
    fs.rmSync(work, { recursive: true, force: true });
  }
}
