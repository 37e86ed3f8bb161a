// The parts of an OCI runtime spec (config.json, or an Exec's Process JSON) the shim uses.
import fs from 'node:fs';
import path from 'node:path';
import { VesselError } from '../errors/index.js';

export interface OciProcess {
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  terminal: boolean;
  rows: number;
  cols: number;
}

/** `o[key]` when `o` is a JSON object, else undefined. */
function member(o: unknown, key: string): unknown {
  return o !== null && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>)[key] : undefined;
}

function isString(v: unknown): v is string {
  return typeof v === 'string';
}

/** A non-negative integer, else 0. */
function count(v: unknown): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0;
}

/** The OCI `process` object (parsed JSON, untrusted shape). */
export function parseProcess(p: unknown): OciProcess {
  if (p === null || typeof p !== 'object' || Array.isArray(p)) throw new VesselError('INVALID_ARGUMENT', 'OCI spec has no process');
  const args = member(p, 'args');
  if (!Array.isArray(args) || args.length === 0 || !args.every(isString)) {
    throw new VesselError('INVALID_ARGUMENT', 'OCI process.args must be a non-empty list of strings');
  }
  const env = member(p, 'env');
  const cwd = member(p, 'cwd');
  const user = member(p, 'user');
  const additionalGids = member(user, 'additionalGids');
  const consoleSize = member(p, 'consoleSize');
  return {
    args,
    env: Array.isArray(env) ? env.filter(isString) : [],
    cwd: isString(cwd) && cwd !== '' ? cwd : '/',
    uid: count(member(user, 'uid')),
    gid: count(member(user, 'gid')),
    additionalGids: Array.isArray(additionalGids) ? additionalGids.map(count) : [],
    terminal: member(p, 'terminal') === true,
    rows: count(member(consoleSize, 'height')),
    cols: count(member(consoleSize, 'width')),
  };
}

export interface OciBundleSpec {
  process: OciProcess;
  hostname: string;
  rootPath: string;
}

export function readBundleSpec(bundle: string): OciBundleSpec {
  let spec: unknown;
  try {
    spec = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
  } catch (err) {
    throw new VesselError('INVALID_ARGUMENT', `cannot read ${bundle}/config.json: ${(err as Error).message}`);
  }
  const hostname = member(spec, 'hostname');
  const rootPath = member(member(spec, 'root'), 'path');
  return {
    process: parseProcess(member(spec, 'process')),
    hostname: isString(hostname) ? hostname : '',
    rootPath: path.resolve(bundle, isString(rootPath) ? rootPath : 'rootfs'),
  };
}
