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

/* eslint-disable @typescript-eslint/no-explicit-any */
export function parseProcess(p: any): OciProcess {
  if (!p || typeof p !== 'object') throw new VesselError('INVALID_ARGUMENT', 'OCI spec has no process');
  const args = p.args;
  if (!Array.isArray(args) || args.length === 0 || !args.every((a: unknown) => typeof a === 'string')) {
    throw new VesselError('INVALID_ARGUMENT', 'OCI process.args must be a non-empty list of strings');
  }
  const env = Array.isArray(p.env) ? p.env.filter((e: unknown): e is string => typeof e === 'string') : [];
  const user = p.user ?? {};
  const num = (v: unknown): number => (Number.isInteger(v) && (v as number) >= 0 ? (v as number) : 0);
  return {
    args,
    env,
    cwd: typeof p.cwd === 'string' && p.cwd !== '' ? p.cwd : '/',
    uid: num(user.uid),
    gid: num(user.gid),
    additionalGids: Array.isArray(user.additionalGids) ? user.additionalGids.map(num) : [],
    terminal: p.terminal === true,
    rows: num(p.consoleSize?.height),
    cols: num(p.consoleSize?.width),
  };
}

export interface OciBundleSpec {
  process: OciProcess;
  hostname: string;
  rootPath: string;
}

export function readBundleSpec(bundle: string): OciBundleSpec {
  let spec: any;
  try {
    spec = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
  } catch (err) {
    throw new VesselError('INVALID_ARGUMENT', `cannot read ${bundle}/config.json: ${(err as Error).message}`);
  }
  return {
    process: parseProcess(spec.process),
    hostname: typeof spec.hostname === 'string' ? spec.hostname : '',
    rootPath: path.resolve(bundle, typeof spec.root?.path === 'string' ? spec.root.path : 'rootfs'),
  };
}
