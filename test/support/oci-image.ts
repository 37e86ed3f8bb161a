// A tiny OCI image-layout tar (busybox-static rootfs, one uncompressed layer) built without
// any registry, for `ctr images import` (../shared/reference/build-oci-image.sh, in
// TypeScript): blobs are named by their sha256, the index's manifest carries
// `io.containerd.image.name`. Tars are written by GNU tar with fixed owner and mtime, so
// the same inputs give the same digests.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BUSYBOX = '/bin/busybox';
const TAR_FLAGS = ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0'];

export interface OciImageOptions {
  /** Image reference recorded in the index, e.g. `docker.io/library/tiny:latest`. */
  name: string;
  /** Extra files of the rootfs: path inside it → content. */
  files?: Record<string, string>;
  /** The image's Cmd (default `/bin/sh`); a pod sandbox image wants one that never exits. */
  cmd?: string[];
  /** The image's User (e.g. `1002`, `www-data:1004`); default none (root). */
  user?: string;
  /** Executable files of the rootfs (mode 0755): path inside it → content. */
  executables?: Record<string, string>;
  /** FIFOs of the rootfs (paths inside it). */
  fifos?: string[];
}

export interface OciImage {
  tarPath: string;
  name: string;
}

interface Blob {
  digest: string;
  size: number;
}

async function writeBlob(blobsDir: string, data: Buffer): Promise<Blob> {
  const digest = createHash('sha256').update(data).digest('hex');
  await fs.writeFile(path.join(blobsDir, digest), data);
  return { digest: `sha256:${digest}`, size: data.length };
}

/** Writes a busybox-static rootfs with `opts`' files, executables and FIFOs into `rootfs`. */
export async function buildRootfs(rootfs: string, opts: Pick<OciImageOptions, 'files' | 'executables' | 'fifos'>): Promise<void> {
  for (const d of ['bin', 'etc', 'dev', 'proc', 'sys', 'tmp', 'root']) await fs.mkdir(path.join(rootfs, d), { recursive: true });
  await fs.copyFile(BUSYBOX, path.join(rootfs, 'bin', 'busybox'));
  await fs.chmod(path.join(rootfs, 'bin', 'busybox'), 0o755);
  const { stdout } = await run(BUSYBOX, ['--list']);
  for (const applet of stdout.split('\n').filter((a) => a !== '' && a !== 'busybox')) {
    await fs.symlink('busybox', path.join(rootfs, 'bin', applet));
  }
  await fs.writeFile(path.join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  await fs.writeFile(path.join(rootfs, 'etc', 'group'), 'root:x:0:\n');
  await fs.chmod(path.join(rootfs, 'tmp'), 0o1777);
  for (const [rel, content, mode] of [
    ...Object.entries(opts.files ?? {}).map(([r, c]) => [r, c, 0o644] as const),
    ...Object.entries(opts.executables ?? {}).map(([r, c]) => [r, c, 0o755] as const),
  ]) {
    const target = path.join(rootfs, rel);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.writeFile(target, content, { mode });
    await fs.chmod(target, mode);
  }
  for (const rel of opts.fifos ?? []) await run('mkfifo', ['-m', '0600', path.join(rootfs, rel)]);
}

/** Builds the image-layout tar in `workDir` (which must exist and be empty of these names). */
export async function buildOciImage(workDir: string, opts: OciImageOptions): Promise<OciImage> {
  const rootfs = path.join(workDir, 'rootfs');
  const layout = path.join(workDir, 'oci');
  const blobs = path.join(layout, 'blobs', 'sha256');
  await fs.mkdir(blobs, { recursive: true });
  await buildRootfs(rootfs, opts);

  const layerPath = path.join(workDir, 'layer.tar');
  await run('tar', [...TAR_FLAGS, '-C', rootfs, '-cf', layerPath, '.']);
  const layer = await writeBlob(blobs, await fs.readFile(layerPath));
  await fs.rm(layerPath);

  const config = await writeBlob(
    blobs,
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: {
          Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
          Cmd: opts.cmd ?? ['/bin/sh'],
          WorkingDir: '/',
          ...(opts.user !== undefined ? { User: opts.user } : {}),
        },
        rootfs: { type: 'layers', diff_ids: [layer.digest] },
      }),
    ),
  );
  const manifest = await writeBlob(
    blobs,
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      }),
    ),
  );
  await fs.writeFile(
    path.join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          platform: { architecture: 'amd64', os: 'linux' },
          annotations: { 'io.containerd.image.name': opts.name, 'org.opencontainers.image.ref.name': 'latest' },
        },
      ],
    }),
  );
  await fs.writeFile(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));

  const tarPath = path.join(workDir, 'image.tar');
  await run('tar', [...TAR_FLAGS, '-C', layout, '-cf', tarPath, 'oci-layout', 'index.json', 'blobs']);
  return { tarPath, name: opts.name };
}
