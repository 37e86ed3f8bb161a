import { describe, expect, it } from 'vitest';
import { CpioWriter, CPIO_MTIME, S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from '../../../src/image/cpio.js';
import { initramfsWriter } from '../../../src/image/initramfs.js';
import { parseNewc } from './fixtures.js';

describe('cpio newc writer', () => {
  it('writes entries the strict reader accepts, sorted, parents first, with the trailer last', () => {
    const w = new CpioWriter();
    w.file('usr/bin/tool', Buffer.from('abcde')); // implicit parents
    w.file('init', Buffer.from('xyz'), 0o755);
    w.symlink('bin/sh', 'busybox');
    w.charDevice('dev/console', 5, 1);
    w.dir('tmp', 0o1777);
    w.file('a-b', 'dash sorts before slash');
    const buf = w.toBuffer();
    expect(buf.length % 4).toBe(0);
    const entries = parseNewc(buf);
    const names = entries.map((e) => e.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(['a-b', 'bin', 'bin/sh', 'dev', 'dev/console', 'init', 'tmp', 'usr', 'usr/bin', 'usr/bin/tool']);
    for (const e of entries) {
      const slash = e.name.lastIndexOf('/');
      if (slash > 0) expect(names.indexOf(e.name.slice(0, slash))).toBeLessThan(names.indexOf(e.name));
      expect(e.mtime).toBe(CPIO_MTIME);
      expect([e.uid, e.gid]).toEqual([0, 0]);
    }
    expect(new Set(entries.map((e) => e.ino)).size).toBe(entries.length);
    const byName = new Map(entries.map((e) => [e.name, e]));
    expect(byName.get('init')!.mode).toBe(S_IFREG | 0o755);
    expect(byName.get('init')!.data.toString()).toBe('xyz');
    expect(byName.get('usr/bin/tool')!.data.toString()).toBe('abcde');
    expect(byName.get('bin/sh')!.mode).toBe(S_IFLNK | 0o777);
    expect(byName.get('bin/sh')!.data.toString()).toBe('busybox');
    expect(byName.get('dev/console')!.mode & S_IFMT).toBe(S_IFCHR);
    expect([byName.get('dev/console')!.rdevMajor, byName.get('dev/console')!.rdevMinor]).toEqual([5, 1]);
    expect(byName.get('tmp')!.mode).toBe(S_IFDIR | 0o1777);
    expect(byName.get('usr')!.mode).toBe(S_IFDIR | 0o755);
  });

  it('pads header+name and data to 4 bytes for every name and data length', () => {
    for (let nameLen = 1; nameLen <= 8; nameLen++) {
      for (let dataLen = 0; dataLen <= 8; dataLen++) {
        const w = new CpioWriter();
        w.file('n'.repeat(nameLen), Buffer.alloc(dataLen, 0x41));
        const entries = parseNewc(w.toBuffer()); // throws on misalignment or non-zero padding
        expect(entries).toHaveLength(1);
        expect(entries[0]!.data.length).toBe(dataLen);
      }
    }
  });

  it('ends with a TRAILER!!! entry and is byte-identical regardless of insertion order', () => {
    const a = new CpioWriter();
    a.file('etc/passwd', 'root\n');
    a.symlink('bin/ls', 'busybox');
    a.charDevice('dev/null', 1, 3, 0o666);
    const b = new CpioWriter();
    b.charDevice('dev/null', 1, 3, 0o666);
    b.symlink('bin/ls', 'busybox');
    b.file('etc/passwd', 'root\n');
    const ba = a.toBuffer();
    expect(ba.equals(b.toBuffer())).toBe(true);
    expect(ba.toString('latin1')).toContain('TRAILER!!!\0');
    expect(ba.length).toBe(a.byteLength());
  });

  it('rejects escaping paths and duplicate non-directory entries', () => {
    const w = new CpioWriter();
    expect(() => w.file('../etc/x', 'x')).toThrow(/invalid cpio path/);
    expect(() => w.file('/', 'x')).toThrow(/invalid cpio path/);
    w.file('etc/x', 'x');
    expect(() => w.file('/etc/x', 'y')).toThrow(/duplicate/);
    w.dir('etc'); // directories may repeat
  });
});

describe('initramfs layout', () => {
  it('has /init, busybox with applet links, device nodes, passwd, modules in order and the lists', () => {
    const w = initramfsWriter({
      agent: Buffer.from('AGENT'),
      busybox: Buffer.from('BUSYBOX'),
      applets: ['sh', 'ls', 'mount'],
      kernelRelease: '6.1.0-x',
      imageId: 'abc123',
      modules: [
        { guestPath: '/lib/modules/6.1.0-x/kernel/a/virtio_ring.ko', data: Buffer.from('r') },
        { guestPath: '/lib/modules/6.1.0-x/kernel/a/virtio.ko', data: Buffer.from('v') },
      ],
    });
    const e = new Map(parseNewc(w.toBuffer()).map((x) => [x.name, x]));
    expect(e.get('init')!.mode).toBe(S_IFREG | 0o755);
    expect(e.get('init')!.data.toString()).toBe('AGENT');
    expect(e.get('bin/busybox')!.mode).toBe(S_IFREG | 0o755);
    for (const a of ['sh', 'ls', 'mount']) expect(e.get(`bin/${a}`)!.data.toString()).toBe('busybox');
    expect([e.get('dev/console')!.rdevMajor, e.get('dev/console')!.rdevMinor]).toEqual([5, 1]);
    expect([e.get('dev/null')!.rdevMajor, e.get('dev/null')!.rdevMinor]).toEqual([1, 3]);
    expect(e.get('etc/passwd')!.data.toString()).toBe('root:x:0:0:root:/root:/bin/sh\n');
    expect(e.get('etc/vessel/modules.list')!.data.toString()).toBe('/lib/modules/6.1.0-x/kernel/a/virtio_ring.ko\n/lib/modules/6.1.0-x/kernel/a/virtio.ko\n');
    expect(JSON.parse(e.get('etc/vessel/image.json')!.data.toString())).toEqual({ kernelRelease: '6.1.0-x', imageId: 'abc123' });
    for (const d of ['proc', 'sys', 'dev', 'tmp', 'run', 'mnt', 'root', 'sbin', 'usr/bin', 'usr/sbin', 'usr/local/bin', 'lib/modules']) {
      expect(e.get(d)!.mode & S_IFMT, d).toBe(S_IFDIR);
    }
    expect(e.get('tmp')!.mode & 0o7777).toBe(0o1777);
  });
});
