// Validation of Instance configuration values. Every rejection is a VesselError
// INVALID_ARGUMENT whose message says what is wrong and what
// is accepted.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VesselError } from '../errors/index.js';

/** Below this the guest does not boot (machine.md: 64 MiB exits silently; 96 MiB boots a tiny initramfs, vessel's needs more). */
export const MIN_RAM_MIB = 128;
export const MAX_CPUS = 255;
/** virtio-fs tags are at most 36 bytes (VIRTIO_FS tag field). */
export const MAX_TAG_BYTES = 36;
/** virtio-blk serials are at most 20 bytes (VIRTIO_BLK_ID_BYTES). */
export const MAX_BLOCK_ID_BYTES = 20;
/** x86 COMMAND_LINE_SIZE is 2048; vessel's own arguments take the rest. */
export const MAX_INIT_ARGS_BYTES = 1024;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function invalid(message: string): VesselError {
  return new VesselError('INVALID_ARGUMENT', message);
}

export function validateCPUAndMemory(cpus: number, ramMiB: number): void {
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > MAX_CPUS) {
    throw invalid(`cpu count must be an integer from 1 to ${MAX_CPUS}, got ${cpus}`);
  }
  if (!Number.isInteger(ramMiB) || ramMiB < MIN_RAM_MIB) {
    throw invalid(`memory must be an integer number of MiB, at least ${MIN_RAM_MIB} (the guest does not boot with less), got ${ramMiB}`);
  }
  const hostMiB = Math.floor(os.totalmem() / 2 ** 20);
  if (ramMiB > hostMiB) {
    throw invalid(`memory ${ramMiB} MiB is more than this host has (${hostMiB} MiB)`);
  }
}

export function validateTag(tag: string): void {
  if (typeof tag !== 'string' || !NAME.test(tag) || Buffer.byteLength(tag) > MAX_TAG_BYTES) {
    throw invalid(`virtio-fs tag must be 1-${MAX_TAG_BYTES} characters of [A-Za-z0-9._-] starting with a letter or digit, got ${JSON.stringify(tag)}`);
  }
}

export function validateBlockId(id: string): void {
  if (typeof id !== 'string' || !NAME.test(id) || Buffer.byteLength(id) > MAX_BLOCK_ID_BYTES) {
    throw invalid(
      `block id must be 1-${MAX_BLOCK_ID_BYTES} characters of [A-Za-z0-9._-] starting with a letter or digit (it becomes the virtio-blk serial), got ${JSON.stringify(id)}`,
    );
  }
}

/** Parses `aa:bb:cc:dd:ee:ff` (or `-` separated) and requires a unicast, non-zero address. Returns it lower-case with colons. */
export function validateMac(mac: string): string {
  const m =
    typeof mac === 'string'
      ? /^([0-9a-fA-F]{2})([:-])([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})$/.exec(mac)
      : null;
  if (!m) throw invalid(`MAC address must look like 52:54:00:12:34:56, got ${JSON.stringify(mac)}`);
  const octets = [m[1], m[3], m[4], m[5], m[6], m[7]].map((h) => parseInt(h!, 16));
  if ((octets[0]! & 1) === 1) throw invalid(`MAC address ${mac} is a multicast address; a NIC needs a unicast one (lowest bit of the first octet clear)`);
  if (octets.every((o) => o === 0)) throw invalid('MAC address 00:00:00:00:00:00 is not a valid NIC address');
  return octets.map((o) => o.toString(16).padStart(2, '0')).join(':');
}

/** An absolute, normalized guest path other than `/`. */
export function validateGuestPath(p: string, what: string): void {
  if (typeof p !== 'string' || !p.startsWith('/') || p === '/' || path.posix.normalize(p) !== p || p.endsWith('/') || p.includes('\0')) {
    throw invalid(`${what} must be an absolute, normalized guest path other than "/", got ${JSON.stringify(p)}`);
  }
}

/**
 * The guest's hostname, by the agent's rule (agent/internal/initsys/cmdline.go): 1..64
 * bytes of dot-separated labels of 1..63 ASCII letters, digits, `-` and `_`, no label
 * starting or ending with `-` (RFC 1123 plus `_`, which OCI container names may hold).
 */
const HOSTNAME_LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
const HOSTNAME = new RegExp(`^${HOSTNAME_LABEL}(?:\\.${HOSTNAME_LABEL})*$`);

export function validateHostname(name: string): void {
  if (typeof name !== 'string' || name.length > 64 || !HOSTNAME.test(name)) {
    throw new VesselError(
      'INVALID_ARGUMENT',
      `hostname ${JSON.stringify(name)} is not valid: 1..64 bytes of dot-separated labels of letters, digits, '-' and '_' (not starting or ending with '-')`,
    );
  }
}

export function validateInitArgs(args: readonly string[]): void {
  let total = 0;
  for (const a of args) {
    // eslint-disable-next-line no-control-regex -- control characters are what this rejects
    if (typeof a !== 'string' || a.length === 0 || /[\s\x00-\x1f\x7f]/.test(a)) {
      throw invalid(`init argument ${JSON.stringify(a)} must be non-empty, without whitespace or control characters`);
    }
    total += Buffer.byteLength(a) + 1;
  }
  if (total > MAX_INIT_ARGS_BYTES) throw invalid(`init arguments are ${total} bytes; at most ${MAX_INIT_ARGS_BYTES} fit on the kernel command line`);
}

/** Resolves a host path that must exist and be of the given kind. */
export function validateHostPath(p: string, kind: 'directory' | 'file' | 'socket', what: string): string {
  if (typeof p !== 'string' || p.length === 0 || p.includes('\0')) throw invalid(`${what} must be a non-empty host path`);
  const abs = path.resolve(p);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw invalid(`${what} ${abs} does not exist`);
    throw invalid(`${what} ${abs}: ${(err as Error).message}`);
  }
  const ok = kind === 'directory' ? st.isDirectory() : kind === 'file' ? st.isFile() || st.isBlockDevice() : st.isSocket();
  if (!ok) throw invalid(`${what} ${abs} is not a ${kind === 'file' ? 'regular file or block device' : kind}`);
  return abs;
}
