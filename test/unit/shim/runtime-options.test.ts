// containerd's runtime options (runtimeoptions.v1.Options with a ConfigPath) → a pod VM's size.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packAny } from '../../../src/shim/protos.js';
import { runtimeConfig } from '../../../src/shim/runtime-options.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vessel-runtime-options-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, text: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

const options = (configPath: string, typeUrl = 'runtimeoptions.v1.Options') => packAny(typeUrl, 'runtimeoptions.v1.Options', { configPath });

describe('runtimeConfig', () => {
  it('reads the size from the JSON file at ConfigPath (either type url form)', () => {
    const f = configFile('ok.json', '{"cpus": 2, "memoryMiB": 512}');
    expect(runtimeConfig(options(f))).toEqual({ cpus: 2, memoryMiB: 512 });
    expect(runtimeConfig(options(f, 'type.googleapis.com/runtimeoptions.v1.Options'))).toEqual({ cpus: 2, memoryMiB: 512 });
    expect(runtimeConfig(options(configFile('cpus.json', '{"cpus": 4}')))).toEqual({ cpus: 4 });
  });

  it('no options, or no ConfigPath, is no config', () => {
    expect(runtimeConfig(null)).toEqual({});
    expect(runtimeConfig(undefined)).toEqual({});
    expect(runtimeConfig({ type_url: '', value: new Uint8Array() })).toEqual({});
    expect(runtimeConfig(options(''))).toEqual({});
  });

  it('refuses what is not a vessel config, naming what is wrong', () => {
    const bad = (o: Parameters<typeof runtimeConfig>[0], re: RegExp) =>
      expect(() => runtimeConfig(o)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(re) }));
    bad({ type_url: 'containerd.runc.v1.Options', value: new Uint8Array([8, 1]) }, /not vessel's/);
    bad(options(path.join(dir, 'missing.json')), /missing\.json: ENOENT/);
    bad(options(dir), /not a regular file/);
    bad(options(configFile('big.json', ' '.repeat(70_000))), /larger than/);
    bad(options(configFile('notjson.json', 'cpus = 2')), /is not JSON/);
    bad(options(configFile('array.json', '[2]')), /must be a JSON object/);
    bad(options(configFile('typo.json', '{"cpu": 2}')), /unknown key\(s\) cpu/);
    bad(options(configFile('zero.json', '{"cpus": 0}')), /cpus must be a positive integer, got 0/);
    bad(options(configFile('str.json', '{"memoryMiB": "512"}')), /memoryMiB must be a positive integer/);
  });
});
