// Names in the image cache. An image lives in `<home>/images/<id>/` with `vmlinuz`,
// `initramfs.cpio[.gz]`, `tools.ext4` and `manifest.json`. An image directory is only ever created by
// renaming a fully written temp directory (`.tmp-<id>-<pid>-*`) into place, and a replaced
// one is renamed aside (`.trash-<id>-<pid>-*`) before removal, so a crash never leaves a half
// image under a valid name; builds of one id hold `.lock-<id>` (lock.ts). Names starting
// with '.' are never images; the ones written here are recognised by `leftoverOf`.
import crypto from 'node:crypto';
import path from 'node:path';
import type { Compression } from './types.js';

export const MANIFEST_FILE = 'manifest.json';
export const KERNEL_FILE = 'vmlinuz';
export const TOOLS_DISK_FILE = 'tools.ext4';

export function initrdName(c: Compression): string {
  return c === 'gzip' ? 'initramfs.cpio.gz' : 'initramfs.cpio';
}

export function imagesDir(home: string): string {
  return path.join(home, 'images');
}

export function imageDir(home: string, id: string): string {
  return path.join(imagesDir(home), id);
}

export function lockPath(home: string, id: string): string {
  return path.join(imagesDir(home), `.lock-${id}`);
}

/** Prefix for mkdtemp: the build directory of `id` by this process. */
export function tempPrefix(home: string, id: string): string {
  return path.join(imagesDir(home), `.tmp-${id}-${process.pid}-`);
}

/** Where this process moves an image directory of `id` before removing it. */
export function trashPath(home: string, id: string): string {
  return path.join(imagesDir(home), `.trash-${id}-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
}

/** What a dot-name in images/ was left by: a build dir or trash of process `pid`, or a lock; undefined for anything else. */
export function leftoverOf(name: string): { kind: 'tmp' | 'trash'; pid: number } | { kind: 'lock' } | undefined {
  const m = /^\.(tmp|trash)-[0-9a-f]+-(\d+)-/.exec(name);
  if (m !== null) return { kind: m[1] as 'tmp' | 'trash', pid: Number(m[2]) };
  return /^\.lock-[0-9a-f]+$/.test(name) ? { kind: 'lock' } : undefined;
}
