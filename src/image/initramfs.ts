// Contract: the guest initramfs layout (shared with the Go agent, see docs): /init = the
// static vessel-agent (0755); /bin/busybox plus one /bin/<applet> symlink per applet; the
// standard directories; /dev/console (5,1) and /dev/null (1,3); /etc/passwd and /etc/group
// for root; uncompressed kernel modules under /lib/modules/<release>/ with
// /etc/vessel/modules.list (absolute paths, load order); /etc/vessel/image.json.
import { CpioWriter } from './cpio.js';

export interface InitramfsParts {
  agent: Buffer;
  busybox: Buffer;
  applets: readonly string[];
  kernelRelease: string;
  imageId: string;
  /** In load order. */
  modules: ReadonlyArray<{ guestPath: string; data: Buffer }>;
}

const DIRS: Array<[string, number]> = [
  ['bin', 0o755],
  ['sbin', 0o755],
  ['etc', 0o755],
  ['etc/vessel', 0o755],
  ['proc', 0o555],
  ['sys', 0o555],
  ['dev', 0o755],
  ['tmp', 0o1777],
  ['run', 0o755],
  ['mnt', 0o755],
  ['root', 0o700],
  ['var', 0o755],
  ['var/tmp', 0o1777],
  ['usr', 0o755],
  ['usr/bin', 0o755],
  ['usr/sbin', 0o755],
  ['usr/local', 0o755],
  ['usr/local/bin', 0o755],
  ['usr/local/sbin', 0o755],
  ['lib', 0o755],
  ['lib/modules', 0o755],
];

export function initramfsWriter(p: InitramfsParts): CpioWriter {
  const w = new CpioWriter();
  for (const [d, perm] of DIRS) w.dir(d, perm);
  w.file('init', p.agent, 0o755);
  w.file('bin/busybox', p.busybox, 0o755);
  for (const a of p.applets) if (!w.has(`bin/${a}`)) w.symlink(`bin/${a}`, 'busybox');
  w.charDevice('dev/console', 5, 1, 0o600);
  w.charDevice('dev/null', 1, 3, 0o666);
  w.file('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n');
  w.file('etc/group', 'root:x:0:\n');
  w.dir(`lib/modules/${p.kernelRelease}`);
  for (const m of p.modules) {
    if (!m.guestPath.startsWith(`/lib/modules/${p.kernelRelease}/`) || !m.guestPath.endsWith('.ko')) {
      throw new Error(`module path ${m.guestPath} is outside /lib/modules/${p.kernelRelease}`);
    }
    w.file(m.guestPath, m.data, 0o644);
  }
  w.file('etc/vessel/modules.list', p.modules.map((m) => `${m.guestPath}\n`).join(''));
  w.file('etc/vessel/image.json', `${JSON.stringify({ kernelRelease: p.kernelRelease, imageId: p.imageId })}\n`);
  return w;
}
