// proto/reflection.binpb (what `vessel serve` answers reflection with) is what protoc
// compiles from today's .proto files, and src/api/reflection.ts hands @grpc/reflection
// each of its files exactly as protoc wrote them. The grpcurl test
// (test/interop-grpc/reflection.test.ts) checks what a client then sees.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type protobuf from 'protobufjs';
import descriptorTypes from 'protobufjs/ext/descriptor/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileDescriptorProtos } from '../../../src/api/reflection.js';
import { protoDir, repoRoot } from '../../support/repo.js';
import { makePrivateTempDir } from '../../support/tmpdir.js';

// protobufjs 8 ships ext/descriptor with empty typings; at run time it exports descriptor.proto's types.
const { FileDescriptorProto } = descriptorTypes as unknown as { FileDescriptorProto: protobuf.Type };

const CHECKED_IN = path.join(protoDir, 'reflection.binpb');
const GENERATOR = path.join(repoRoot, 'scripts', 'gen-reflection-descriptors.sh');

let tmp: { dir: string; remove: () => Promise<void> };
beforeAll(async () => {
  tmp = await makePrivateTempDir('reflection-descriptors');
});
afterAll(async () => {
  await tmp?.remove();
});

/** A FileDescriptorSet's wire form: field 1 (length-delimited) once per file. */
function descriptorSetOf(files: Buffer[]): Buffer {
  const varint = (n: number): number[] => (n < 0x80 ? [n] : [(n & 0x7f) | 0x80, ...varint(n >>> 7)]);
  return Buffer.concat(files.flatMap((f) => [Buffer.from([0x0a, ...varint(f.length)]), f]));
}

describe('reflection descriptors', () => {
  it('proto/reflection.binpb is current: scripts/gen-reflection-descriptors.sh writes the same bytes', async () => {
    const fresh = path.join(tmp.dir, 'reflection.binpb');
    await new Promise<void>((resolve, reject) => {
      execFile('bash', [GENERATOR, fresh], { timeout: 60_000 }, (err, _out, stderr) =>
        err ? reject(new Error(`${GENERATOR}: ${err.message}\n${stderr}`)) : resolve(),
      );
    });
    const same = fs.readFileSync(fresh).equals(fs.readFileSync(CHECKED_IN));
    expect(same, `${CHECKED_IN} is stale: run scripts/gen-reflection-descriptors.sh and commit it`).toBe(true);
  });

  it('splits the set into each file, byte for byte: vm.proto and health.proto under their own names', () => {
    const set = fs.readFileSync(CHECKED_IN);
    const files = fileDescriptorProtos(set);
    expect(descriptorSetOf(files).equals(set)).toBe(true);
    expect(files.map((f) => (FileDescriptorProto.decode(f) as unknown as { name: string }).name)).toEqual([
      'vessel/vm/v1/vm.proto',
      'grpc/health/v1/health.proto',
    ]);
  });

  it('skips fields of the set other than `file`', () => {
    const files = fileDescriptorProtos(fs.readFileSync(CHECKED_IN));
    const withExtra = Buffer.concat([Buffer.from([0x10, 0x07]), descriptorSetOf(files), Buffer.from([0x1a, 0x02, 0xff, 0xff])]);
    expect(fileDescriptorProtos(withExtra)).toEqual(files);
  });
});
