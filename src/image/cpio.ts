// Contract: a deterministic writer of cpio "newc" (SVR4 without CRC, magic 070701) archives,
// the format the Linux kernel unpacks as an initramfs. Entries are added in any order and
// written sorted by path (a parent always precedes its children), with fixed mtime, uid/gid 0
// and inode numbers assigned in output order, so equal entries give byte-identical archives.
// Paths are relative ("bin/busybox", no leading slash). Every header+name and every data
// block is padded to a multiple of 4 bytes; the archive ends with the "TRAILER!!!" entry.

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;

export interface CpioEntry {
  path: string;
  /** Full st_mode: file type bits | permission bits. */
  mode: number;
  data: Buffer;
  rdevMajor: number;
  rdevMinor: number;
}

export const NEWC_MAGIC = '070701';
export const TRAILER = 'TRAILER!!!';
const HEADER_LEN = 110;
/** Fixed mtime of every entry (2020-01-01T00:00:00Z), for reproducible archives. */
export const CPIO_MTIME = 1577836800;

function normalize(p: string): string {
  const out = p.split('/').filter((s) => s !== '' && s !== '.');
  if (out.length === 0 || out.some((s) => s === '..')) throw new Error(`invalid cpio path ${JSON.stringify(p)}`);
  return out.join('/');
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

function hex8(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`cpio field out of range: ${n}`);
  return n.toString(16).padStart(8, '0');
}

export class CpioWriter {
  private readonly entries = new Map<string, CpioEntry>();

  private add(e: CpioEntry): void {
    const path = normalize(e.path);
    const prev = this.entries.get(path);
    if (prev !== undefined) {
      // mkdir -p style: the same directory may be added twice; anything else is a builder bug.
      if ((prev.mode & S_IFMT) === S_IFDIR && (e.mode & S_IFMT) === S_IFDIR) return;
      throw new Error(`duplicate cpio entry ${path}`);
    }
    this.entries.set(path, { ...e, path });
  }

  /** A directory and, implicitly, all of its missing parents (mode 0755). */
  dir(path: string, perm = 0o755): void {
    const parts = normalize(path).split('/');
    for (let i = 1; i < parts.length; i++)
      this.add({ path: parts.slice(0, i).join('/'), mode: S_IFDIR | 0o755, data: Buffer.alloc(0), rdevMajor: 0, rdevMinor: 0 });
    const full = parts.join('/');
    const prev = this.entries.get(full);
    if (prev !== undefined && (prev.mode & S_IFMT) === S_IFDIR) {
      prev.mode = S_IFDIR | (perm & 0o7777);
      return;
    }
    this.add({ path: full, mode: S_IFDIR | (perm & 0o7777), data: Buffer.alloc(0), rdevMajor: 0, rdevMinor: 0 });
  }

  file(path: string, data: Buffer | string, perm = 0o644): void {
    this.parents(path);
    this.add({ path, mode: S_IFREG | (perm & 0o7777), data: Buffer.isBuffer(data) ? data : Buffer.from(data), rdevMajor: 0, rdevMinor: 0 });
  }

  symlink(path: string, target: string): void {
    this.parents(path);
    this.add({ path, mode: S_IFLNK | 0o777, data: Buffer.from(target), rdevMajor: 0, rdevMinor: 0 });
  }

  charDevice(path: string, major: number, minor: number, perm = 0o600): void {
    this.parents(path);
    this.add({ path, mode: S_IFCHR | (perm & 0o7777), data: Buffer.alloc(0), rdevMajor: major, rdevMinor: minor });
  }

  has(path: string): boolean {
    return this.entries.has(normalize(path));
  }

  get size(): number {
    return this.entries.size;
  }

  private parents(path: string): void {
    const parts = normalize(path).split('/');
    if (parts.length > 1) {
      const parent = parts.slice(0, -1).join('/');
      if (!this.entries.has(parent)) this.dir(parent);
    }
  }

  /** Entries in output order. */
  sorted(): CpioEntry[] {
    return [...this.entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** The archive as a sequence of buffers (header+name+padding, data+padding, ..., trailer). */
  *chunks(): Generator<Buffer> {
    let ino = 1;
    for (const e of this.sorted()) {
      const isDir = (e.mode & S_IFMT) === S_IFDIR;
      yield encodeHeader(e.path, { ino: ino++, mode: e.mode, nlink: isDir ? 2 : 1, filesize: e.data.length, rdevMajor: e.rdevMajor, rdevMinor: e.rdevMinor });
      if (e.data.length > 0) {
        yield e.data;
        const p = pad4(e.data.length);
        if (p > 0) yield Buffer.alloc(p);
      }
    }
    yield encodeHeader(TRAILER, { ino: 0, mode: 0, nlink: 1, filesize: 0, rdevMajor: 0, rdevMinor: 0 });
  }

  /** Total archive length in bytes (for progress). */
  byteLength(): number {
    let n = 0;
    for (const c of this.chunks()) n += c.length;
    return n;
  }

  toBuffer(): Buffer {
    return Buffer.concat([...this.chunks()]);
  }
}

function encodeHeader(name: string, f: { ino: number; mode: number; nlink: number; filesize: number; rdevMajor: number; rdevMinor: number }): Buffer {
  const nameBytes = Buffer.from(name + '\0');
  const mtime = name === TRAILER ? 0 : CPIO_MTIME;
  const fields = [f.ino, f.mode, 0, 0, f.nlink, mtime, f.filesize, 0, 0, f.rdevMajor, f.rdevMinor, nameBytes.length, 0];
  const head = Buffer.from(NEWC_MAGIC + fields.map(hex8).join(''), 'latin1');
  const total = HEADER_LEN + nameBytes.length;
  return Buffer.concat([head, nameBytes, Buffer.alloc(pad4(total))]);
}
