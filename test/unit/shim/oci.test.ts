// The OCI process JSON is untrusted input of any shape: what parseProcess takes, defaults and refuses.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isVesselError } from '../../../src/errors/index.js';
import { parseProcess, readBundleSpec } from '../../../src/shim/oci.js';

describe('parseProcess', () => {
  it('reads args, env, cwd, user, terminal and console size', () => {
    expect(
      parseProcess({
        args: ['sh', '-c', 'true'],
        env: ['A=1', 7, 'B=2'],
        cwd: '/work',
        user: { uid: 1000, gid: 100, additionalGids: [10, -1, 'x', 20] },
        terminal: true,
        consoleSize: { height: 40, width: 120 },
      }),
    ).toEqual({
      args: ['sh', '-c', 'true'],
      env: ['A=1', 'B=2'],
      cwd: '/work',
      uid: 1000,
      gid: 100,
      additionalGids: [10, 0, 0, 20],
      terminal: true,
      rows: 40,
      cols: 120,
    });
  });

  it('defaults what is missing or of the wrong type', () => {
    expect(parseProcess({ args: ['x'], env: 'A=1', cwd: '', user: 'root', terminal: 'yes', consoleSize: [] })).toEqual({
      args: ['x'],
      env: [],
      cwd: '/',
      uid: 0,
      gid: 0,
      additionalGids: [],
      terminal: false,
      rows: 0,
      cols: 0,
    });
    expect(parseProcess({ args: ['x'], user: { uid: 1.5, gid: -3 } })).toMatchObject({ uid: 0, gid: 0 });
  });

  it('refuses a process that is not an object, or args that are not a non-empty list of strings', () => {
    for (const p of [undefined, null, 'sh', ['sh']]) {
      expect(() => parseProcess(p)).toThrow(/OCI spec has no process/);
    }
    for (const args of [undefined, [], 'sh', ['sh', 1]]) {
      expect(() => parseProcess({ args })).toThrow(/process.args must be a non-empty list of strings/);
    }
    let err: unknown;
    try {
      parseProcess({});
    } catch (e) {
      err = e;
    }
    expect(isVesselError(err, 'INVALID_ARGUMENT')).toBe(true);
  });
});

describe('readBundleSpec', () => {
  it('reads config.json: process, hostname, root.path relative to the bundle (default rootfs)', () => {
    const bundle = fs.mkdtempSync(path.join(os.tmpdir(), 'oci-'));
    try {
      fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify({ process: { args: ['true'] }, hostname: 'h', root: { path: 'r' } }));
      expect(readBundleSpec(bundle)).toMatchObject({ hostname: 'h', rootPath: path.join(bundle, 'r'), process: { args: ['true'] } });
      fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify({ process: { args: ['true'] }, hostname: 5, root: null }));
      expect(readBundleSpec(bundle)).toMatchObject({ hostname: '', rootPath: path.join(bundle, 'rootfs') });
      fs.writeFileSync(path.join(bundle, 'config.json'), '[1]');
      expect(() => readBundleSpec(bundle)).toThrow(/OCI spec has no process/);
    } finally {
      fs.rmSync(bundle, { recursive: true, force: true });
    }
  });
});
