// Fixtures for the image tests: a newc reader, fake kernel modules (minimal ELF64 with a
// .modinfo section), a fake kernel .deb built with dpkg-deb, and a stand-in Go agent module.
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { KernelRef, KernelSource } from '../../../src/image/kernel.js';
import type { RuncRef, RuncSource } from '../../../src/image/runc.js';

const exec = promisify(execFile);

export interface ParsedEntry {
  name: string;
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  rdevMajor: number;
  rdevMinor: number;
  data: Buffer;
  /** Offset of the header in the archive. */
  offset: number;
}

/** Strict newc reader: checks magic, hex fields, NUL-terminated names, 4-byte alignment and the trailer. */
export function parseNewc(buf: Buffer): ParsedEntry[] {
  const out: ParsedEntry[] = [];
  let off = 0;
  for (;;) {
    if (off % 4 !== 0) throw new Error(`header at ${off} is not 4-byte aligned`);
    if (off + 110 > buf.length) throw new Error('truncated archive (no trailer)');
    const magic = buf.toString('latin1', off, off + 6);
    if (magic !== '070701') throw new Error(`bad magic ${magic} at ${off}`);
    const f: number[] = [];
    for (let i = 0; i < 13; i++) {
      const s = buf.toString('latin1', off + 6 + i * 8, off + 14 + i * 8);
      if (!/^[0-9a-f]{8}$/.test(s)) throw new Error(`bad hex field ${s} at ${off}`);
      f.push(Number.parseInt(s, 16));
    }
    const [ino, mode, uid, gid, nlink, mtime, filesize, , , rdevMajor, rdevMinor, namesize, check] = f as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    if (check !== 0) throw new Error('newc check field must be 0');
    const nameStart = off + 110;
    if (buf[nameStart + namesize - 1] !== 0) throw new Error(`name at ${off} is not NUL-terminated`);
    const name = buf.toString('utf8', nameStart, nameStart + namesize - 1);
    let p = nameStart + namesize;
    const namePad = (4 - (p % 4)) % 4;
    if (!buf.subarray(p, p + namePad).every((b) => b === 0)) throw new Error(`non-zero name padding at ${p}`);
    p += namePad;
    const data = buf.subarray(p, p + filesize);
    p += filesize;
    const dataPad = (4 - (p % 4)) % 4;
    if (!buf.subarray(p, p + dataPad).every((b) => b === 0)) throw new Error(`non-zero data padding at ${p}`);
    p += dataPad;
    if (name === 'TRAILER!!!') {
      if (p !== buf.length) throw new Error(`${buf.length - p} bytes after the trailer`);
      return out;
    }
    out.push({ name, ino, mode, uid, gid, nlink, mtime, rdevMajor, rdevMinor, data: Buffer.from(data), offset: off });
    off = p;
  }
}

/** A minimal ELF64 relocatable file with a .modinfo section, like a kernel module. */
export function fakeKo(name: string, depends: string[]): Buffer {
  const modinfo = Buffer.from(`license=GPL\0depends=${depends.join(',')}\0name=${name}\0vermagic=6.1.0-fake SMP mod_unload\0`);
  const shstr = Buffer.from('\0.modinfo\0.shstrtab\0');
  const modinfoOff = 64;
  const shstrOff = modinfoOff + modinfo.length;
  let shoff = shstrOff + shstr.length;
  shoff += (8 - (shoff % 8)) % 8;
  const buf = Buffer.alloc(shoff + 3 * 64);
  buf.writeUInt32LE(0x464c457f, 0);
  buf[4] = 2; // 64-bit
  buf[5] = 1; // little-endian
  buf[6] = 1;
  buf.writeUInt16LE(1, 0x10); // ET_REL
  buf.writeUInt16LE(62, 0x12); // x86-64
  buf.writeUInt32LE(1, 0x14);
  buf.writeBigUInt64LE(BigInt(shoff), 0x28);
  buf.writeUInt16LE(64, 0x34);
  buf.writeUInt16LE(64, 0x3a);
  buf.writeUInt16LE(3, 0x3c);
  buf.writeUInt16LE(2, 0x3e);
  modinfo.copy(buf, modinfoOff);
  shstr.copy(buf, shstrOff);
  const sh = (i: number, nameOff: number, type: number, offset: number, size: number): void => {
    const o = shoff + i * 64;
    buf.writeUInt32LE(nameOff, o);
    buf.writeUInt32LE(type, o + 4);
    buf.writeBigUInt64LE(BigInt(offset), o + 0x18);
    buf.writeBigUInt64LE(BigInt(size), o + 0x20);
    buf.writeBigUInt64LE(1n, o + 0x30);
  };
  sh(1, 1, 1, modinfoOff, modinfo.length); // PROGBITS ".modinfo"
  sh(2, 10, 3, shstrOff, shstr.length); // STRTAB ".shstrtab"
  return buf;
}

export const FAKE_RELEASE = '6.1.0-fake';

/**
 * Writes a fake kernel package tree and builds a .deb of it: boot/vmlinuz-<release>, modules
 * virtio_ring <- virtio <- virtio_console (xz-compressed), an unrelated module, and
 * `overlay` listed as built in.
 */
export async function makeFakeKernelDeb(dir: string): Promise<{ deb: string; sha256: string }> {
  const root = path.join(dir, 'pkg');
  const mod = path.join(root, 'lib', 'modules', FAKE_RELEASE);
  await fs.mkdir(path.join(root, 'DEBIAN'), { recursive: true });
  await fs.mkdir(path.join(root, 'boot'), { recursive: true });
  await fs.mkdir(path.join(mod, 'kernel', 'drivers', 'virtio'), { recursive: true });
  await fs.mkdir(path.join(mod, 'kernel', 'drivers', 'char'), { recursive: true });
  await fs.writeFile(
    path.join(root, 'DEBIAN', 'control'),
    'Package: linux-image-fake\nVersion: 1\nArchitecture: amd64\nMaintainer: test <t@example.invalid>\nDescription: fake kernel for tests\n',
  );
  await fs.writeFile(path.join(root, 'boot', `vmlinuz-${FAKE_RELEASE}`), crypto.randomBytes(4096));
  await fs.writeFile(path.join(mod, 'kernel', 'drivers', 'virtio', 'virtio_ring.ko'), fakeKo('virtio_ring', []));
  await fs.writeFile(path.join(mod, 'kernel', 'drivers', 'virtio', 'virtio.ko'), fakeKo('virtio', ['virtio_ring']));
  await fs.writeFile(path.join(mod, 'kernel', 'drivers', 'virtio', 'unrelated.ko'), fakeKo('unrelated', []));
  const vc = path.join(mod, 'kernel', 'drivers', 'char', 'virtio_console.ko');
  await fs.writeFile(vc, fakeKo('virtio_console', ['virtio', 'virtio_ring']));
  await exec('xz', ['-9', vc]);
  await fs.writeFile(path.join(mod, 'modules.builtin'), 'kernel/fs/overlayfs/overlay.ko\nkernel/fs/ext4/ext4.ko\n');
  const deb = path.join(dir, 'linux-image-fake_1_amd64.deb');
  await exec('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', root, deb]);
  const sha256 = crypto
    .createHash('sha256')
    .update(await fs.readFile(deb))
    .digest('hex');
  return { deb, sha256 };
}

export const FAKE_MODULES = ['virtio_console', 'overlay'];

/** A KernelSource serving one local .deb; counts fetches. */
export class FakeKernelSource implements KernelSource {
  fetches = 0;
  constructor(
    private readonly deb: string,
    private readonly sha256: string,
  ) {}
  async resolve(): Promise<KernelRef> {
    return { package: 'linux-image-fake', version: '1', debSha256: this.sha256, debFileName: 'linux-image-fake_1_amd64.deb' };
  }
  async fetch(home: string, ref: KernelRef): Promise<string> {
    this.fetches++;
    const dest = path.join(home, 'downloads', ref.debFileName);
    await fs.mkdir(path.dirname(dest), { recursive: true });
    await fs.copyFile(this.deb, dest);
    return dest;
  }
}

/** A RuncSource whose "runc" is the host's static busybox (no Go build); counts builds. */
export class FakeRuncSource implements RuncSource {
  builds = 0;
  constructor(private readonly version = 'v0.0.0-fake') {}
  async resolve(): Promise<RuncRef> {
    return { module: 'example.com/fake-runc', version: this.version, sum: 'h1:fake', goVersion: 'go0', buildTags: ['seccomp'], linked: {} };
  }
  async build(_ref: RuncRef, out: string): Promise<Buffer> {
    this.builds++;
    await fs.copyFile('/bin/busybox', out);
    return fs.readFile(out);
  }
}

/**
 * A stand-in for agent/ (module vessel.dev/agent with internal/version and cmd/vessel-agent).
 * `main` is the body of main(); imports fmt, os and syscall are available.
 */
export async function makeStandInAgent(dir: string, main = 'fmt.Println("vessel-agent: stand-in", version.Version)'): Promise<string> {
  await fs.mkdir(path.join(dir, 'cmd', 'vessel-agent'), { recursive: true });
  await fs.mkdir(path.join(dir, 'internal', 'version'), { recursive: true });
  await fs.writeFile(path.join(dir, 'go.mod'), 'module vessel.dev/agent\n\ngo 1.22\n');
  await fs.writeFile(path.join(dir, 'internal', 'version', 'version.go'), 'package version\n\nvar Version = "dev"\n');
  await fs.writeFile(
    path.join(dir, 'cmd', 'vessel-agent', 'main.go'),
    `package main\n\nimport (\n\t"fmt"\n\t"os"\n\t"syscall"\n\n\t"vessel.dev/agent/internal/version"\n)\n\nvar _ = os.Exit\nvar _ = syscall.Sync\n\nfunc main() {\n${main}\n}\n`,
  );
  return dir;
}
