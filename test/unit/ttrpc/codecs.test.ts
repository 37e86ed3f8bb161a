// Frame decoder, envelope codecs (against protobufjs as the reference encoder), status mapping.
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { VesselError, isVesselError } from '../../../src/errors/index.js';
import {
  Code,
  DEFAULT_ENVELOPE_LIMITS,
  FrameDecoder,
  TtrpcError,
  decodeRequest,
  decodeResponse,
  encodeFrame,
  encodeRequest,
  encodeResponse,
  statusFromError,
} from '../../../src/ttrpc/index.js';

const ref = protobuf.parse(`
syntax = "proto3";
package ttrpc;
message Any { string type_url = 1; bytes value = 2; }
message Status { int32 code = 1; string message = 2; repeated Any details = 3; }
message KeyValue { string key = 1; string value = 2; }
message Request { string service = 1; string method = 2; bytes payload = 3; int64 timeout_nano = 4; repeated KeyValue metadata = 5; }
message Response { Status status = 1; bytes payload = 2; }
`).root;
const RefRequest = ref.lookupType('ttrpc.Request');
const RefResponse = ref.lookupType('ttrpc.Response');
const RefAny = ref.lookupType('ttrpc.Any');

function collectFrames(max: number, input: Buffer, chunkSizes: number[]) {
  const frames: Array<[number, number, number, string]> = [];
  const oversized: Array<[number, number]> = [];
  let maxBuffered = 0;
  const d = new FrameDecoder(
    {
      onFrame: (id, type, flags, p) => frames.push([id, type, flags, p.toString('hex')]),
      onOversized: (id, _t, _f, len) => oversized.push([id, len]),
    },
    max,
  );
  let off = 0;
  let i = 0;
  while (off < input.length) {
    const n = chunkSizes[i++ % chunkSizes.length]!;
    d.push(input.subarray(off, off + n));
    off += n;
    maxBuffered = Math.max(maxBuffered, d.bufferedBytes);
  }
  return { frames, oversized, maxBuffered };
}

describe('FrameDecoder', () => {
  const input = Buffer.concat([encodeFrame(1, 1, 0, Buffer.from('abc')), encodeFrame(3, 3, 5), encodeFrame(0xfffffffe, 2, 0xff, Buffer.alloc(300, 7))]);
  const expected = [
    [1, 1, 0, '616263'],
    [3, 3, 5, ''],
    [0xfffffffe, 2, 0xff, Buffer.alloc(300, 7).toString('hex')],
  ];

  it('decodes frames split at every possible boundary', () => {
    for (let size = 1; size <= input.length; size++) {
      expect(collectFrames(1024, input, [size]).frames).toEqual(expected);
    }
    expect(collectFrames(1024, input, [1, 9, 2, 50, 3]).frames).toEqual(expected);
  });

  it('skips an oversized frame without buffering it and decodes what follows', () => {
    const big = encodeFrame(5, 1, 0, Buffer.alloc(100_000, 1));
    const stream = Buffer.concat([big, encodeFrame(7, 1, 0, Buffer.from('z'))]);
    const { frames, oversized, maxBuffered } = collectFrames(1000, stream, [4096, 7, 333]);
    expect(oversized).toEqual([[5, 100_000]]);
    expect(frames).toEqual([[7, 1, 0, '7a']]);
    expect(maxBuffered).toBeLessThanOrEqual(1010);
  });

  it('accepts a payload of exactly the maximum', () => {
    const { frames, oversized } = collectFrames(16, encodeFrame(1, 1, 0, Buffer.alloc(16)), [5]);
    expect(frames).toHaveLength(1);
    expect(oversized).toHaveLength(0);
  });
});

describe('Request envelope', () => {
  const req = {
    service: 'containerd.task.v2.Task',
    method: 'Create',
    payload: Buffer.from([1, 2, 3, 0]),
    timeoutNano: 1_500_000_000,
    metadata: [
      { key: 'containerd-namespace', value: 'default' },
      { key: 'k', value: 'ünïcode' },
      { key: 'k', value: '' },
    ],
  };

  it('encodes exactly what protobufjs encodes, and decodes it back', () => {
    const mine = encodeRequest(req);
    const theirs = Buffer.from(RefRequest.encode(RefRequest.fromObject(req)).finish());
    expect(mine.toString('hex')).toBe(theirs.toString('hex'));
    const back = decodeRequest(theirs);
    expect({ ...back, payload: Buffer.from(back.payload!) }).toEqual(req);
  });

  it('decodes negative timeouts and skips unknown fields', () => {
    const withUnknown = Buffer.concat([
      Buffer.from(RefRequest.encode(RefRequest.fromObject({ service: 's', timeoutNano: -5 })).finish()),
      Buffer.from([0x30, 0x01, 0x3d, 1, 2, 3, 4, 0x42, 0x01, 0x00]),
    ]);
    const r = decodeRequest(withUnknown);
    expect(r.service).toBe('s');
    expect(r.timeoutNano).toBe(-5);
    expect(r.payload).toBeUndefined();
  });

  it('bounds metadata entries and string lengths', () => {
    const many = encodeRequest({
      ...req,
      metadata: Array.from({ length: DEFAULT_ENVELOPE_LIMITS.maxMetadataEntries + 1 }, () => ({ key: 'a', value: 'b' })),
    });
    expect(() => decodeRequest(many)).toThrow(/metadata entries/);
    const longName = encodeRequest({ ...req, service: 'x'.repeat(DEFAULT_ENVELOPE_LIMITS.maxNameBytes + 1) });
    expect(() => decodeRequest(longName)).toThrow(/service name longer/);
  });

  it('throws only VesselError(TTRPC_PROTOCOL_ERROR) on truncated or random input', () => {
    const good = encodeRequest(req);
    for (let n = 0; n < good.length; n++) {
      try {
        decodeRequest(good.subarray(0, n));
      } catch (err) {
        expect(isVesselError(err, 'TTRPC_PROTOCOL_ERROR')).toBe(true);
      }
    }
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    let errors = 0;
    for (let i = 0; i < 5000; i++) {
      const buf = Buffer.from(Array.from({ length: rand() % 40 }, rand));
      for (const decode of [decodeRequest, decodeResponse]) {
        try {
          decode(buf);
        } catch (err) {
          errors++;
          expect(isVesselError(err, 'TTRPC_PROTOCOL_ERROR')).toBe(true);
        }
      }
    }
    expect(errors).toBeGreaterThan(0);
  });
});

describe('Response envelope', () => {
  it('matches protobufjs for error statuses with details', () => {
    const detail = Buffer.from(RefAny.encode(RefAny.fromObject({ typeUrl: 't/x', value: Buffer.from([9]) })).finish());
    const mine = encodeResponse({ status: { code: Code.NOT_FOUND, message: 'gone', details: [detail] }, payload: Buffer.from([1]) });
    const theirs = RefResponse.encode(
      RefResponse.fromObject({ status: { code: 5, message: 'gone', details: [{ typeUrl: 't/x', value: Buffer.from([9]) }] }, payload: Buffer.from([1]) }),
    ).finish();
    expect(mine.toString('hex')).toBe(Buffer.from(theirs).toString('hex'));
    const back = decodeResponse(mine);
    expect(back.status.code).toBe(Code.NOT_FOUND);
    expect(back.status.message).toBe('gone');
    expect(Buffer.from(back.status.details[0]!).equals(detail)).toBe(true);
  });

  it('absent status is OK; Go-style empty status (0a 00) is OK too; negative codes survive', () => {
    expect(decodeResponse(Buffer.alloc(0)).status.code).toBe(Code.OK);
    expect(decodeResponse(Buffer.from([0x0a, 0x00, 0x12, 0x01, 0x07])).status.code).toBe(Code.OK);
    expect(decodeResponse(encodeResponse({ status: { code: -3 as Code, message: '', details: [] } })).status.code).toBe(-3);
  });
});

describe('statusFromError', () => {
  it('maps TtrpcError, VesselError codes and plain errors in one place', () => {
    expect(statusFromError(new TtrpcError(Code.ABORTED, 'a', [Buffer.from([1])]))).toMatchObject({ code: Code.ABORTED, message: 'a' });
    expect(statusFromError(new VesselError('INVALID_ARGUMENT', 'bad'))).toEqual({ code: Code.INVALID_ARGUMENT, message: 'bad', details: [] });
    expect(statusFromError(new VesselError('NOT_STARTED', 'x')).code).toBe(Code.FAILED_PRECONDITION);
    expect(statusFromError(new VesselError('TTRPC_CONNECTION_CLOSED', 'x')).code).toBe(Code.UNAVAILABLE);
    expect(statusFromError(new Error('boom'))).toEqual({ code: Code.UNKNOWN, message: 'boom', details: [] });
    expect(statusFromError('str')).toEqual({ code: Code.UNKNOWN, message: 'str', details: [] });
  });
});
