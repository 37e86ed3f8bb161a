// Stand-ins for the images critest v1.34.0 names (pkg/validate/consts.go, pkg/framework),
// built from busybox-static without any registry and pushed into a local one that the CRI
// plugin's registry mirrors point at (registry.k8s.io and gcr.io). They hold what the specs
// look at: users and groups from images/image-user and image-predefined-group, a file per
// image-test image (so tags differ or agree as the specs expect), web servers on the ports the
// specs dial (busybox httpd, announcing itself on stderr for the multi-container log check);
// a small pgrep script stands in for the one Debian's busybox-static lacks.
// What no stand-in can be: a real nginx (its master pid file and `pidof nginx`), `ipcs`, the
// `nonewprivs` binary, the digest-pinned test image, and a shell that execs /bin/ls (busybox's
// standalone shell runs its applets itself, so MaskedPaths cannot hide ls): those specs fail
// under runc too.
import fs from 'node:fs';
import path from 'node:path';
import type { PrivateContainerd } from '../containerd.js';
import { buildOciImage, type OciImageOptions } from '../oci-image.js';

const E2E = 'registry.k8s.io/e2e-test-images/';
const CRI_TOOLS = 'gcr.io/k8s-staging-cri-tools/';

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
const GROUP = 'root:x:0:\nwww-data:x:33:\nnogroup:x:65534:\n';
const WWW = { 'www/index.html': '<html><body>critest stand-in</body></html>\n' };
// Debian's busybox-static has no pgrep, which the execSync-timeout spec runs: a stand-in by /proc/*/comm.
const PGREP = `#!/bin/sh
# pgrep NAME (stand-in): the pids whose comm is NAME; exit 1 when there are none
found=1
for d in /proc/[0-9]*; do
  if [ "$(cat "$d/comm" 2>/dev/null)" = "$1" ]; then echo "\${d#/proc/}"; found=0; fi
done
exit $found
`;
const web = (port: number, name: string): string[] => ['sh', '-c', `echo "${name}: serving /www on port ${port}" >&2; exec httpd -f -p ${port} -h /www`];

type StandIn = Omit<OciImageOptions, 'name'>;

/** Image reference → how to build its stand-in (every one a busybox with pgrep). */
export function critestImages(): Record<string, StandIn> {
  const all = critestImageList();
  for (const opts of Object.values(all)) {
    opts.executables = { 'bin/pgrep': PGREP, ...opts.executables };
  }
  return all;
}

function critestImageList(): Record<string, StandIn> {
  const base = { 'etc/passwd': PASSWD, 'etc/group': GROUP };
  const images: Record<string, StandIn> = {
    [`${E2E}busybox:1.29-2`]: { files: base, cmd: ['sh'] },
    [`${E2E}nginx:1.14-2`]: { files: { ...base, ...WWW }, cmd: web(80, 'nginx') },
    [`${E2E}httpd:2.4.39-4`]: { files: { ...base, ...WWW }, cmd: web(80, 'httpd') },
    [`${CRI_TOOLS}hostnet-nginx-amd64:latest`]: { files: { ...base, ...WWW }, cmd: web(12003, 'nginx') },
    [`${CRI_TOOLS}test-image-user-uid:latest`]: { files: base, cmd: ['sh'], user: '1002' },
    [`${CRI_TOOLS}test-image-user-username:latest`]: { files: base, cmd: ['sh'], user: 'www-data' },
    [`${CRI_TOOLS}test-image-user-uid-group:latest`]: { files: base, cmd: ['sh'], user: '1003:1004' },
    [`${CRI_TOOLS}test-image-user-username-group:latest`]: { files: base, cmd: ['sh'], user: 'www-data:1004' },
    [`${CRI_TOOLS}test-image-predefined-group:latest`]: {
      files: {
        'etc/passwd': `${PASSWD}default-user:x:1000:1000:Linux User,,,:/home/default-user:/bin/sh\n`,
        'etc/group': `${GROUP}default-user:x:1000:\ngroup-defined-in-image:x:50000:default-user\n`,
      },
      cmd: ['sh'],
      user: '1000',
    },
  };
  // images/image-test: one file named after the image; different tags of test-image-tags are one image.
  const testImage = (file: string): StandIn => ({ files: { ...base, [file]: `${file}\n` }, cmd: ['sh'] });
  for (const n of ['test-image-latest', 'test-image-1', 'test-image-2', 'test-image-3']) images[`${CRI_TOOLS}${n}:latest`] = testImage(n);
  images[`${CRI_TOOLS}test-image-tag:test`] = testImage('test-image-tag');
  images[`${CRI_TOOLS}test-image-tag:all`] = testImage('test-image-tag');
  for (const t of ['1', '2', '3']) images[`${CRI_TOOLS}test-image-tags:${t}`] = testImage('test-image-tags');
  return images;
}

/** `registry.k8s.io/e2e-test-images/busybox:1.29-2` → `127.0.0.1:PORT/e2e-test-images/busybox:1.29-2`. */
export function mirroredRef(ref: string, registry: string): string {
  return `${registry}/${ref.slice(ref.indexOf('/') + 1)}`;
}

/** Builds every stand-in, imports it into a staging namespace under its mirrored name and pushes it. */
export async function pushCritestImages(c: PrivateContainerd, registry: string, workDir: string): Promise<string[]> {
  const pushed: string[] = [];
  for (const [ref, opts] of Object.entries(critestImages())) {
    const target = mirroredRef(ref, registry);
    const work = path.join(workDir, ref.replace(/[^a-z0-9]+/gi, '-'));
    fs.mkdirSync(work, { recursive: true });
    const img = await buildOciImage(work, { name: target, ...opts });
    for (const args of [
      ['-n', 'critest-staging', 'images', 'import', img.tarPath],
      ['-n', 'critest-staging', 'images', 'push', '--plain-http', target],
    ]) {
      const r = await c.ctr(args, { timeoutMs: 120_000 });
      if (r.code !== 0) throw new Error(`ctr ${args.join(' ')}: ${r.stderr}`);
    }
    fs.rmSync(work, { recursive: true, force: true });
    pushed.push(ref);
  }
  return pushed;
}
