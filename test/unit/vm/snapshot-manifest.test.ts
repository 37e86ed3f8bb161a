// The snapshot manifest read back with care: malformed or incomplete → SNAPSHOT_CORRUPT,
// made for another image/QEMU/accelerator/machine/CPU model or a changed referenced disk →
// SNAPSHOT_MISMATCH, a file that fails its size or sha256 → SNAPSHOT_CORRUPT (also after
// it was verified once, when it changes).
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  MANIFEST_FILE,
  checkCompatible,
  describeFiles,
  readManifest,
  verifyFiles,
  type RestoreHost,
  type SnapshotManifest,
} from '../../../src/vm/qemu/snapshot-manifest.js';
import { makePrivateTempDir } from '../../support/tmpdir.js';

let tmp: { dir: string; remove: () => Promise<void> };
let dir: string;
let roDisk: string;

const host: RestoreHost = { imageId: 'img1', qemuVersion: 'QEMU emulator version 7.2.22', accelerator: 'tcg', machine: 'microvm', cpuModel: undefined };

async function writeSnapshot(edit: (m: SnapshotManifest) => void = () => undefined): Promise<SnapshotManifest> {
  fs.writeFileSync(path.join(dir, 'state'), 'device state');
  fs.writeFileSync(path.join(dir, 'ram'), Buffer.alloc(4096, 1));
  fs.writeFileSync(path.join(dir, 'disk-data.raw'), 'disk');
  const st = fs.statSync(roDisk);
  const m: SnapshotManifest = {
    format: 'vessel-snapshot',
    version: 1,
    createdAt: new Date().toISOString(),
    image: { id: 'img1' },
    qemu: { version: host.qemuVersion },
    vm: { machine: 'microvm', accelerator: 'tcg', cpuModel: null, cpus: 1, ramMiB: 256, cmdline: 'console=ttyS0' },
    ram: { capture: 'mapped' },
    disks: [
      { blockId: 'data', format: 'raw', readOnly: false, capture: 'copied', file: 'disk-data.raw' },
      { blockId: 'ro', format: 'raw', readOnly: true, capture: 'referenced', path: roDisk, size: st.size, mtimeMs: st.mtimeMs },
    ],
    files: await describeFiles(dir, ['disk-data.raw', 'ram', 'state']),
  };
  edit(m);
  fs.writeFileSync(path.join(dir, MANIFEST_FILE), JSON.stringify(m));
  return m;
}

beforeEach(async () => {
  tmp = await makePrivateTempDir('manifest');
  dir = path.join(tmp.dir, 'snap');
  fs.mkdirSync(dir);
  roDisk = path.join(tmp.dir, 'ro.img');
  fs.writeFileSync(roDisk, 'read-only');
});

afterEach(async () => {
  await tmp.remove();
});

describe('readManifest', () => {
  it('reads a complete manifest back', async () => {
    const m = await writeSnapshot();
    expect(readManifest(dir)).toEqual(m);
  });

  it('SNAPSHOT_CORRUPT: no manifest, not JSON, malformed, or a needed file unlisted', async () => {
    expect(() => readManifest(dir)).toThrow(expect.objectContaining({ code: 'SNAPSHOT_CORRUPT' }));
    fs.writeFileSync(path.join(dir, MANIFEST_FILE), '{');
    expect(() => readManifest(dir)).toThrow(expect.objectContaining({ code: 'SNAPSHOT_CORRUPT' }));
    await writeSnapshot((m) => ((m.vm as { cpus: unknown }).cpus = 'two'));
    expect(() => readManifest(dir)).toThrow(expect.objectContaining({ code: 'SNAPSHOT_CORRUPT', message: expect.stringContaining('malformed') }));
    await writeSnapshot((m) => (m.files = m.files.filter((f) => f.name !== 'ram')));
    expect(() => readManifest(dir)).toThrow(expect.objectContaining({ code: 'SNAPSHOT_CORRUPT', message: expect.stringContaining('lists no ram') }));
    await writeSnapshot((m) => (m.files[0]!.name = '../escape'));
    expect(() => readManifest(dir)).toThrow(expect.objectContaining({ code: 'SNAPSHOT_CORRUPT' }));
  });

  it('SNAPSHOT_MISMATCH for another format version; NOT_FOUND for no dir', async () => {
    await writeSnapshot((m) => ((m as { version: number }).version = 2));
    expect(() => readManifest(dir)).toThrow(expect.objectContaining({ code: 'SNAPSHOT_MISMATCH' }));
    expect(() => readManifest(path.join(tmp.dir, 'none'))).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});

describe('checkCompatible', () => {
  it('accepts what it was made for, refuses anything else (SNAPSHOT_MISMATCH)', async () => {
    const m = await writeSnapshot();
    expect(() => checkCompatible(dir, m, host)).not.toThrow();
    for (const other of [
      { imageId: 'img2' },
      { qemuVersion: 'QEMU emulator version 8.0.0' },
      { accelerator: 'kvm' as const },
      { machine: 'q35' as const },
      { cpuModel: 'host' },
    ])
      expect(() => checkCompatible(dir, m, { ...host, ...other })).toThrow(expect.objectContaining({ code: 'SNAPSHOT_MISMATCH' }));
  });

  it('refuses a referenced read-only disk that changed or is gone', async () => {
    const m = await writeSnapshot();
    fs.appendFileSync(roDisk, '!');
    expect(() => checkCompatible(dir, m, host)).toThrow(expect.objectContaining({ code: 'SNAPSHOT_MISMATCH', message: expect.stringContaining('changed') }));
    fs.rmSync(roDisk);
    expect(() => checkCompatible(dir, m, host)).toThrow(expect.objectContaining({ code: 'SNAPSHOT_MISMATCH', message: expect.stringContaining('gone') }));
  });
});

describe('verifyFiles', () => {
  it('passes intact files, and refuses a changed one even after it was verified once', async () => {
    const m = await writeSnapshot();
    await verifyFiles(dir, m);
    await verifyFiles(dir, m); // (the cached verdict)
    const ram = path.join(dir, 'ram');
    const b = fs.readFileSync(ram);
    b[100] = 2; // same size, another byte
    fs.writeFileSync(ram, b);
    await expect(verifyFiles(dir, m)).rejects.toMatchObject({ code: 'SNAPSHOT_CORRUPT', message: expect.stringContaining('ram does not match its sha256') });
  });

  it('refuses a missing or resized file', async () => {
    const m = await writeSnapshot();
    fs.appendFileSync(path.join(dir, 'state'), 'x');
    await expect(verifyFiles(dir, m)).rejects.toMatchObject({ code: 'SNAPSHOT_CORRUPT', message: expect.stringContaining('state is') });
    fs.rmSync(path.join(dir, 'state'));
    await expect(verifyFiles(dir, m)).rejects.toMatchObject({ code: 'SNAPSHOT_CORRUPT', message: expect.stringContaining('state is missing') });
  });
});
