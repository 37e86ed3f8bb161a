// Contract: `vessel image build [--force] [--compression none|gzip]`, `vessel image list
// [--json]`, `vessel image prune [--all]`. Resolves to an exit code; errors are printed on
// stderr as "vessel image: <code>: <message>".
import { parseArgs } from 'node:util';
import type { Writable } from 'node:stream';
import { isVesselError } from '../errors/index.js';
import { ensureDefaultImage, buildImage, listImages, pruneImages, type Compression } from '../image/index.js';
import { progressReporter } from './progress.js';

export const IMAGE_USAGE = `Usage: vessel image <command> [options]

Commands:
  build [--force] [--compression none|gzip]   build the guest image (reuses a verified one unless --force)
  list [--json]                               list cached images
  prune [--all]                               remove images other than the current default (or all)
`;

function mib(n: number): string {
  return `${(n / (1 << 20)).toFixed(1)} MiB`;
}

export async function runImage(argv: string[], stdout: Writable, stderr: Writable & { isTTY?: boolean }): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    switch (sub) {
      case 'build': {
        const { values } = parseArgs({ args: rest, options: { force: { type: 'boolean' }, compression: { type: 'string' } }, strict: true });
        const compression = (values.compression ?? 'none') as Compression;
        if (compression !== 'none' && compression !== 'gzip') {
          stderr.write(`vessel image build: --compression must be none or gzip\n`);
          return 2;
        }
        const bar = progressReporter(stderr);
        const started = Date.now();
        try {
          const opts = { compression, onProgress: bar.onProgress };
          const img = values.force ? await buildImage(opts) : await ensureDefaultImage(opts);
          bar.finish();
          const a = img.manifest.artifacts;
          stdout.write(`${img.id}  kernel ${img.kernelRelease}  ${img.dir}\n`);
          stderr.write(`vmlinuz ${mib(a.kernel.size)}, ${a.initrd.path} ${mib(a.initrd.size)}, ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
        } finally {
          bar.finish();
        }
        return 0;
      }
      case 'list': {
        const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' } }, strict: true });
        const images = await listImages();
        if (values.json) {
          stdout.write(`${JSON.stringify(images, null, 2)}\n`);
          return 0;
        }
        if (images.length === 0) {
          stdout.write('no images (vessel image build creates one)\n');
          return 0;
        }
        stdout.write(`${'ID'.padEnd(18)}${'KERNEL'.padEnd(24)}${'SIZE'.padEnd(12)}CREATED\n`);
        for (const i of images) {
          stdout.write(`${(i.id + (i.isDefault ? '*' : '')).padEnd(18)}${i.kernelRelease.padEnd(24)}${mib(i.sizeBytes).padEnd(12)}${i.createdAt}\n`);
        }
        return 0;
      }
      case 'prune': {
        const { values } = parseArgs({ args: rest, options: { all: { type: 'boolean' } }, strict: true });
        const { removed } = await pruneImages({ all: values.all === true });
        for (const r of removed) stdout.write(`removed ${r}\n`);
        if (removed.length === 0) stdout.write('nothing to remove\n');
        return 0;
      }
      case undefined:
      case 'help':
      case '-h':
      case '--help':
        stdout.write(IMAGE_USAGE);
        return sub === undefined ? 2 : 0;
      default:
        stderr.write(`vessel image: unknown command "${sub}"\n\n${IMAGE_USAGE}`);
        return 2;
    }
  } catch (err) {
    if (isVesselError(err)) {
      stderr.write(`vessel image: ${err.code}: ${err.message}\n`);
      return 1;
    }
    if (err instanceof TypeError && (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      stderr.write(`vessel image: ${err.message}\n\n${IMAGE_USAGE}`);
      return 2;
    }
    throw err;
  }
}
