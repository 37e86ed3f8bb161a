// The vessel.vm.v1 package definition, loaded at run time from proto/ with proto-loader.
// Conventions for handlers: lowerCamelCase field names, int64 as decimal strings, enums as
// their names, defaults filled in, oneofs reported in a `msg` field.
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';

export const VM_PROTO = 'vessel/vm/v1/vm.proto';

function protoRoot(): string {
  // src/api (ts) or dist/src/api (js): walk up to the directory that has proto/.
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'proto', VM_PROTO))) return path.join(dir, 'proto');
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`proto/${VM_PROTO} not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [],
};

let cached: protoLoader.PackageDefinition | undefined;

export function vmPackageDefinition(): protoLoader.PackageDefinition {
  cached ??= protoLoader.loadSync(path.join(protoRoot(), VM_PROTO), { ...LOADER_OPTIONS, includeDirs: [protoRoot()] });
  return cached;
}

export function protoDirectory(): string {
  return protoRoot();
}
