// Loading .proto files at run time (protobufjs) and converting messages to and from the
// plain objects handlers and callers see.
//
// Plain-object convention (both directions of client and server):
//   - field names are lowerCamelCase (protobufjs default: sleep_ms → sleepMs);
//   - decoded objects carry every field (proto3 defaults filled in);
//   - 64-bit integers decode as `bigint`; on encode number, bigint or decimal string work;
//   - bytes decode as Buffer; on encode Buffer/Uint8Array (or base64 string) work;
//   - enums are numbers.
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type { DeepPartial } from './types.js';

const TO_OBJECT_OPTIONS: protobuf.IConversionOptions = {
  longs: BigInt as unknown as typeof Number,
  defaults: true,
};

/** `<repo>/proto`, found by walking up from this module (works from src/ and dist/src/). */
export function defaultProtoDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'proto');
    if (existsSync(candidate) && existsSync(join(dir, 'package.json'))) return candidate;
    dir = dirname(dir);
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'proto');
}

/**
 * Parses `files` (absolute, or relative to an include dir) and their imports into one
 * resolved Root. Imports are searched in `includeDirs` (default: `<repo>/proto`);
 * google/protobuf well-known types come bundled with protobufjs.
 */
export function loadProtos(files: string[], includeDirs: string[] = [defaultProtoDir()]): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (origin: string, target: string): string | null => {
    if (isAbsolute(target)) return target;
    for (const dir of includeDirs) {
      const candidate = join(dir, target);
      if (existsSync(candidate)) return candidate;
    }
    if (origin) {
      const sibling = join(dirname(origin), target);
      if (existsSync(sibling)) return sibling;
    }
    // Unresolved: protobufjs falls back to its bundled google/protobuf definitions.
    return target;
  };
  root.loadSync(files);
  root.resolveAll();
  return root;
}

/** Plain object (see the convention above) → protobuf bytes; T: the message's generated type, if the caller names it. */
export function encodeMessage<T = unknown>(type: protobuf.Type, obj: DeepPartial<T>): Uint8Array {
  const value: unknown = obj;
  const message = value instanceof type.ctor ? (value as protobuf.Message) : type.fromObject((value ?? {}) as object);
  return type.encode(message).finish();
}

/**
 * Protobuf bytes → plain object. Throws on malformed input. `T` is the caller's word for the
 * message's shape: its generated type (src/gen/protobufjs) when `type` is that message.
 */
export function decodeMessage<T = unknown>(type: protobuf.Type, bytes: Uint8Array): T {
  return type.toObject(type.decode(bytes), TO_OBJECT_OPTIONS) as T;
}

/** '/package.Service' prefix of a service's method paths ('' package allowed). */
export function serviceName(service: protobuf.Service): string {
  return service.fullName.startsWith('.') ? service.fullName.slice(1) : service.fullName;
}

export type MethodKind = 'unary' | 'serverStream' | 'clientStream' | 'bidi';

export function methodKind(method: protobuf.Method): MethodKind {
  if (method.requestStream) return method.responseStream ? 'bidi' : 'clientStream';
  return method.responseStream ? 'serverStream' : 'unary';
}

export function resolvedTypes(method: protobuf.Method): { requestType: protobuf.Type; responseType: protobuf.Type } {
  method.resolve();
  const requestType = method.resolvedRequestType;
  const responseType = method.resolvedResponseType;
  if (requestType === null || responseType === null) {
    throw new Error(`ttrpc: method ${method.name} has unresolved types`);
  }
  return { requestType, responseType };
}
