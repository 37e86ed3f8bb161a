// gRPC reflection for `vessel serve`, answered from protoc's own descriptors of the files
// the daemon serves (proto/reflection.binpb, a FileDescriptorSet written by
// scripts/gen-reflection-descriptors.sh and kept current by a unit test), never from
// proto-loader's: those are rebuilt by protobufjs after its renaming (camelCase fields
// without json_name, map entries named `Statuses` instead of `StatusesEntry`, files merged
// per package), which strict clients such as grpcurl refuse. Handlers are unaffected: they
// keep proto-loader's camelCase objects (proto.ts).
import fs from 'node:fs';
import path from 'node:path';
import type * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import protobuf from 'protobufjs';
import { VesselError } from '../errors/index.js';
import { protoDirectory } from './proto.js';

export const REFLECTION_DESCRIPTORS = 'reflection.binpb';

/** FileDescriptorSet field 1: `repeated FileDescriptorProto file`, length-delimited. */
const FILE_FIELD_TAG = (1 << 3) | 2;

/** Each FileDescriptorProto of a serialized FileDescriptorSet, byte for byte as protoc wrote it. */
export function fileDescriptorProtos(descriptorSet: Uint8Array): Buffer[] {
  const reader = protobuf.Reader.create(descriptorSet);
  const files: Buffer[] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag === FILE_FIELD_TAG) files.push(Buffer.from(reader.bytes()));
    else reader.skipType(tag & 7);
  }
  return files;
}

/** The reflection service over proto/reflection.binpb: every service in it is listed. */
export function reflectionService(): ReflectionService {
  const file = path.join(protoDirectory(), REFLECTION_DESCRIPTORS);
  const files = fileDescriptorProtos(fs.readFileSync(file));
  if (files.length === 0) throw new VesselError('INTERNAL', `${file} holds no file descriptors: run scripts/gen-reflection-descriptors.sh`);
  // @grpc/reflection reads only `fileDescriptorProtos` of each package-definition entry
  // (its ReflectionV1Implementation constructor indexes files by their own names), so one
  // entry carrying every file is all it needs; the cast is for proto-loader's wider type.
  const definition = { descriptors: { fileDescriptorProtos: files } };
  return new ReflectionService(definition as unknown as protoLoader.PackageDefinition);
}
