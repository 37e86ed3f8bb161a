// Building an image's artifacts into a directory: fetch and unpack the kernel, collect the
// wanted modules, build the agent, write the initramfs (optionally gzip) and vmlinuz, build
// runc and write the tools disk, and record them all in the manifest. Reports progress as
// it goes.
import crypto from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import zlib from 'node:zlib';
import { buildAgent } from './agent.js';
import { busyboxApplets } from './busybox.js';
import { initrdName, KERNEL_FILE, MANIFEST_FILE, TOOLS_DISK_FILE } from './cache-layout.js';
import { initramfsWriter } from './initramfs.js';
import type { ResolvedInputs } from './inputs.js';
import { unpackKernel } from './kernel.js';
import { collectModules } from './modules.js';
import { vesselVersion } from './repo.js';
import { RUNC_IN_TOOLS, writeToolsDisk } from './tools-disk.js';
import type { BuildProgress, Compression, ImageManifest } from './types.js';

function sha256(b: Buffer): string {
  return crypto.createHash('sha256').update(b).digest('hex');
}

/** Builds every artifact of `r` into the (empty, existing) directory `out`. */
export async function buildInto(out: string, r: ResolvedInputs, onProgress?: (p: BuildProgress) => void): Promise<ImageManifest> {
  const progress = (p: BuildProgress): void => onProgress?.(p);
  const work = path.join(out, '.work');
  await fs.mkdir(work);

  progress({ phase: 'download kernel', message: `${r.kernelRef.package} ${r.kernelRef.version}` });
  const deb = await r.kernelSource.fetch(r.home, r.kernelRef, (done, total) => progress({ phase: 'download kernel', done, total }));

  progress({ phase: 'unpack', message: path.basename(deb) });
  const kernel = await unpackKernel(deb, path.join(work, 'kernel'));

  progress({ phase: 'modules', done: 0, total: r.inputs.modules.length });
  const mods = await collectModules(kernel.root, kernel.release, r.inputs.modules, (done, total) => progress({ phase: 'modules', done, total }));

  progress({ phase: 'agent build', message: r.agentDir });
  const agentVersion = `${vesselVersion()}+${r.inputs.agent.treeSha256.slice(0, 12)}`;
  const agent = await buildAgent(r.agentDir, path.join(work, 'vessel-agent'), agentVersion);
  const applets = await busyboxApplets(r.busybox);

  const writer = initramfsWriter({ agent, busybox: r.busybox.data, applets, kernelRelease: kernel.release, imageId: r.id, modules: mods.modules });
  const total = writer.byteLength();
  const initrdPath = path.join(out, initrdName(r.inputs.compression));
  const initrd = await writeInitramfs(writer.chunks(), initrdPath, r.inputs.compression, total, (done) => progress({ phase: 'initramfs write', done, total }));

  const vmlinuz = await fs.readFile(kernel.vmlinuz);
  await fs.writeFile(path.join(out, KERNEL_FILE), vmlinuz);

  progress({ phase: 'runc build', message: `${r.inputs.runc.module}@${r.inputs.runc.version}` });
  const runc = await r.runcSource.build(r.inputs.runc, path.join(work, 'runc'));
  progress({ phase: 'tools disk write', message: TOOLS_DISK_FILE });
  const toolsPath = path.join(out, TOOLS_DISK_FILE);
  await fs.mkdir(path.join(work, 'tools'));
  await writeToolsDisk(toolsPath, path.join(work, 'tools'), [{ path: RUNC_IN_TOOLS, data: runc, mode: 0o755 }]);
  const tools = await fs.readFile(toolsPath);
  await fs.rm(work, { recursive: true, force: true });

  const manifest: ImageManifest = {
    schemaVersion: 1,
    id: r.id,
    createdAt: new Date().toISOString(),
    kernelRelease: kernel.release,
    inputs: r.inputs,
    artifacts: {
      kernel: { path: KERNEL_FILE, size: vmlinuz.length, sha256: sha256(vmlinuz) },
      initrd: { path: path.basename(initrdPath), size: initrd.size, sha256: initrd.sha256 },
      tools: { path: TOOLS_DISK_FILE, size: tools.length, sha256: sha256(tools) },
    },
    contents: {
      agent: { version: agentVersion, size: agent.length, sha256: sha256(agent) },
      busybox: { source: r.busybox.path, applets: applets.length },
      runc: { path: `/${RUNC_IN_TOOLS}`, version: r.inputs.runc.version, size: runc.length, sha256: sha256(runc) },
      modules: mods.modules.map((m) => ({ name: m.name, path: m.guestPath, sha256: sha256(m.data) })),
      builtinModules: mods.builtin,
      initramfsEntries: writer.size,
      initramfsUncompressedSize: total,
    },
  };
  await fs.writeFile(path.join(out, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Writes the initramfs chunks to `file` (a new file), gzipped or not; the size and sha256 are of what is on disk. */
async function writeInitramfs(
  chunks: Iterable<Buffer>,
  file: string,
  compression: Compression,
  total: number,
  onBytes: (done: number) => void,
): Promise<{ size: number; sha256: string }> {
  const h = crypto.createHash('sha256');
  let size = 0;
  const sink = createWriteStream(file, { flags: 'wx' });
  const closed = once(sink, 'close');
  const gz = compression === 'gzip' ? zlib.createGzip({ level: 9 }) : undefined;
  const target = gz ?? sink;
  if (gz) {
    gz.on('data', (c: Buffer) => {
      h.update(c);
      size += c.length;
      if (!sink.write(c)) gz.pause();
    });
    sink.on('drain', () => gz.resume());
    gz.on('end', () => sink.end());
  }
  let done = 0;
  let lastReport = 0;
  for (const c of chunks) {
    if (!gz) {
      h.update(c);
      size += c.length;
    }
    if (!target.write(c)) await once(target, 'drain');
    done += c.length;
    if (done - lastReport >= 1 << 20 || done === total) {
      lastReport = done;
      onBytes(done);
    }
  }
  target.end();
  await closed;
  onBytes(total);
  return { size, sha256: h.digest('hex') };
}
