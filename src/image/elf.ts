// Contract: tiny read-only ELF64 little-endian helpers for the image builder: whether a
// binary is static (no PT_INTERP program header) and the key=value strings of a kernel
// module's `.modinfo` section. Bounds-checked: malformed input gives an Error, never a crash.

const ELF_MAGIC = 0x464c457f; // "\x7fELF" read little-endian
const PT_INTERP = 3;

function header(buf: Buffer): { phoff: number; phentsize: number; phnum: number; shoff: number; shentsize: number; shnum: number; shstrndx: number } {
  if (buf.length < 64 || buf.readUInt32LE(0) !== ELF_MAGIC) throw new Error('not an ELF file');
  if (buf[4] !== 2 || buf[5] !== 1) throw new Error('not a 64-bit little-endian ELF file');
  return {
    phoff: Number(buf.readBigUInt64LE(0x20)),
    shoff: Number(buf.readBigUInt64LE(0x28)),
    phentsize: buf.readUInt16LE(0x36),
    phnum: buf.readUInt16LE(0x38),
    shentsize: buf.readUInt16LE(0x3a),
    shnum: buf.readUInt16LE(0x3c),
    shstrndx: buf.readUInt16LE(0x3e),
  };
}

function check(buf: Buffer, off: number, len: number, what: string): void {
  if (!Number.isSafeInteger(off) || off < 0 || len < 0 || off + len > buf.length) throw new Error(`ELF ${what} out of bounds`);
}

/** True when the ELF executable has no program interpreter (statically linked). */
export function isStaticElf(buf: Buffer): boolean {
  const h = header(buf);
  check(buf, h.phoff, h.phentsize * h.phnum, 'program headers');
  if (h.phnum > 0 && h.phentsize < 4) throw new Error('ELF program header too small');
  for (let i = 0; i < h.phnum; i++) {
    if (buf.readUInt32LE(h.phoff + i * h.phentsize) === PT_INTERP) return false;
  }
  return true;
}

/** The bytes of the named section, or undefined when the file has none. */
export function elfSection(buf: Buffer, name: string): Buffer | undefined {
  const h = header(buf);
  if (h.shnum === 0) return undefined;
  if (h.shentsize < 64) throw new Error('ELF section header too small');
  check(buf, h.shoff, h.shentsize * h.shnum, 'section headers');
  if (h.shstrndx >= h.shnum) throw new Error('ELF section name table index out of range');
  const sh = (i: number): { name: number; offset: number; size: number } => {
    const o = h.shoff + i * h.shentsize;
    return { name: buf.readUInt32LE(o), offset: Number(buf.readBigUInt64LE(o + 0x18)), size: Number(buf.readBigUInt64LE(o + 0x20)) };
  };
  const strtab = sh(h.shstrndx);
  check(buf, strtab.offset, strtab.size, 'section name table');
  for (let i = 0; i < h.shnum; i++) {
    const s = sh(i);
    if (s.name >= strtab.size) continue;
    const start = strtab.offset + s.name;
    const end = buf.indexOf(0, start);
    if (end < 0 || end > strtab.offset + strtab.size) continue;
    if (buf.toString('latin1', start, end) !== name) continue;
    check(buf, s.offset, s.size, `section ${name}`);
    return buf.subarray(s.offset, s.offset + s.size);
  }
  return undefined;
}

/** All key=value pairs of a kernel module's .modinfo section (a key may repeat). */
export function readModinfo(ko: Buffer): Array<[string, string]> {
  const sec = elfSection(ko, '.modinfo');
  if (sec === undefined) throw new Error('no .modinfo section (not a kernel module?)');
  const out: Array<[string, string]> = [];
  for (const raw of sec.toString('latin1').split('\0')) {
    const eq = raw.indexOf('=');
    if (eq <= 0) continue;
    out.push([raw.slice(0, eq), raw.slice(eq + 1)]);
  }
  return out;
}

/** The `depends=` list of a kernel module (module names, possibly empty). */
export function moduleDepends(ko: Buffer): string[] {
  const deps = readModinfo(ko)
    .filter(([k]) => k === 'depends')
    .map(([, v]) => v);
  return deps
    .flatMap((d) => d.split(','))
    .map((d) => d.trim())
    .filter((d) => d !== '');
}
