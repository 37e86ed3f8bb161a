// Host tool lookup (binaries.ts): the vsock backend is only ever the repo's patched build.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { VHOST_DEVICE_VSOCK, findTool, requireTool } from '../../../src/vm/qemu/binaries.js';

const saved = { PATH: process.env.PATH, override: process.env[VHOST_DEVICE_VSOCK.env] };
let dir: string | undefined;
afterEach(() => {
  process.env.PATH = saved.PATH;
  if (saved.override === undefined) delete process.env[VHOST_DEVICE_VSOCK.env];
  else process.env[VHOST_DEVICE_VSOCK.env] = saved.override;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function executableIn(name: string): string {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'binaries-'));
  const p = path.join(dir, name);
  fs.writeFileSync(p, '#!/bin/sh\n', { mode: 0o755 });
  return p;
}

describe('VHOST_DEVICE_VSOCK', () => {
  it('is never taken from $PATH (a stock build deadlocks), only from the repo build or its env override', () => {
    const onPath = executableIn('vhost-device-vsock');
    delete process.env[VHOST_DEVICE_VSOCK.env];
    process.env.PATH = `${path.dirname(onPath)}:${saved.PATH ?? ''}`;
    expect(findTool(VHOST_DEVICE_VSOCK)).not.toBe(onPath);
    expect(VHOST_DEVICE_VSOCK.candidates).toEqual([expect.stringMatching(/\/\.interop-bin\/vhost-device-vsock$/)]);
    process.env[VHOST_DEVICE_VSOCK.env] = onPath;
    expect(findTool(VHOST_DEVICE_VSOCK)).toBe(onPath);
  });

  it('says how to build it when it is missing', () => {
    delete process.env[VHOST_DEVICE_VSOCK.env];
    // (the repo build may exist on this machine: a copy of the tool without it)
    expect(() => requireTool({ ...VHOST_DEVICE_VSOCK, candidates: [] })).toThrow(
      /^vhost-device-vsock not found: build it with scripts\/build-vhost-device-vsock.sh \(run by scripts\/install-deps.sh\) \(or set VESSEL_VHOST_DEVICE_VSOCK\)$/,
    );
  });
});
