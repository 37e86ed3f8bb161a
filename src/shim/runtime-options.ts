// The runtime's options from containerd: the CRI plugin sends a runtime's
// `[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.vessel.options]` with Create as
// runtimeoptions.v1.Options (for every runtime that is not runc), and `ctr run
// --runtime-config-path FILE` sends the same. vessel reads its ConfigPath: a JSON file with
// the pod VMs' default size, e.g. {"cpus": 2, "memoryMiB": 512}. A pod's annotations
// (oci.ts vmSize) override it; without either, the VM backend's defaults hold. No options,
// or an empty ConfigPath, is no config. Anything else is INVALID_ARGUMENT naming what is
// wrong: another options type, an unreadable or oversized file, bad JSON, an unknown key, a
// size outside its bounds.
import fs from 'node:fs';
import { VesselError } from '../errors/index.js';
import type { runtimeoptionsv1 } from '../gen/index.js';
import { decodeMessage } from '../ttrpc/index.js';
import { checkVmSize, type VmSize } from './oci.js';
import { shimProtos } from './protos.js';

const OPTIONS_TYPE = 'runtimeoptions.v1.Options';
/** A config file is a few lines: more than this is not one. */
const MAX_CONFIG_BYTES = 64 * 1024;
const KEYS = new Set(['cpus', 'memoryMiB']);

/** The VM size a Create's runtime options ask for (see the file's contract). */
export function runtimeConfig(options: { type_url: string; value: Uint8Array } | null | undefined): VmSize {
  if (!options || (options.type_url === '' && options.value.length === 0)) return {};
  const typeName = options.type_url.slice(options.type_url.lastIndexOf('/') + 1);
  if (typeName !== OPTIONS_TYPE) {
    throw new VesselError(
      'INVALID_ARGUMENT',
      `runtime options of type ${JSON.stringify(options.type_url)} are not vessel's: set ConfigPath (${OPTIONS_TYPE}) to a JSON file`,
    );
  }
  const o = decodeMessage<runtimeoptionsv1.Options>(shimProtos().type(OPTIONS_TYPE), options.value);
  return o.configPath === '' ? {} : readConfig(o.configPath);
}

function readConfig(file: string): VmSize {
  let text: string;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw new Error('not a regular file');
    if (st.size > MAX_CONFIG_BYTES) throw new Error(`larger than ${MAX_CONFIG_BYTES} bytes`);
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new VesselError('INVALID_ARGUMENT', `runtime config ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new VesselError('INVALID_ARGUMENT', `runtime config ${file} is not JSON: ${(err as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new VesselError('INVALID_ARGUMENT', `runtime config ${file} must be a JSON object`);
  const unknown = Object.keys(raw).filter((k) => !KEYS.has(k));
  if (unknown.length)
    throw new VesselError('INVALID_ARGUMENT', `runtime config ${file}: unknown key(s) ${unknown.join(', ')} (known: ${[...KEYS].join(', ')})`);
  const { cpus, memoryMiB } = raw as Record<string, unknown>;
  return checkVmSize({ cpus, memoryMiB }, `runtime config ${file}`);
}
