import { describe, expect, it } from 'vitest';
import { FrameDecoder, encodeHeader, type FrameSink } from '../../../src/mux/index.js';
import { isVesselError } from '../../../src/errors/index.js';

interface Decoded {
  frames: Array<[number, number, number, number]>;
  payloads: Buffer[];
}

function collector(): { sink: FrameSink; out: Decoded } {
  const out: Decoded = { frames: [], payloads: [] };
  let pieces: Buffer[] = [];
  const sink: FrameSink = {
    onFrame: (type, flags, id, length) => out.frames.push([type, flags, id, length]),
    onPayload: (piece, last) => {
      pieces.push(Buffer.from(piece));
      if (last) {
        out.payloads.push(Buffer.concat(pieces));
        pieces = [];
      }
    },
  };
  return { sink, out };
}

describe('frame codec', () => {
  it('encodes headers big-endian as in the yamux spec', () => {
    const h = encodeHeader(1, 0x0102, 0x01020304, 0xa0b0c0d0);
    expect([...h]).toEqual([0, 1, 0x01, 0x02, 0x01, 0x02, 0x03, 0x04, 0xa0, 0xb0, 0xc0, 0xd0]);
  });

  it('decodes frames split at every possible byte boundary', () => {
    const payloadA = Buffer.from('hello yamux');
    const payloadB = Buffer.alloc(300, 7);
    const wire = Buffer.concat([
      encodeHeader(1, 1, 3, 1000),
      encodeHeader(0, 0, 3, payloadA.length),
      payloadA,
      encodeHeader(2, 2, 0, 0xffffffff),
      encodeHeader(0, 4, 5, payloadB.length),
      payloadB,
      encodeHeader(0, 4, 7, 0),
      encodeHeader(3, 0, 0, 1),
    ]);
    for (const step of [1, 5, 11, 12, 13, 64, wire.length]) {
      const { sink, out } = collector();
      const d = new FrameDecoder(sink, { maxPayload: 1024 });
      for (let i = 0; i < wire.length; i += step) d.push(wire.subarray(i, i + step));
      expect(out.frames).toEqual([
        [1, 1, 3, 1000],
        [0, 0, 3, payloadA.length],
        [2, 2, 0, 0xffffffff],
        [0, 4, 5, payloadB.length],
        [0, 4, 7, 0],
        [3, 0, 0, 1],
      ]);
      expect(out.payloads).toEqual([payloadA, payloadB]);
    }
  });

  it('does not treat window-update/ping/go-away lengths as payload', () => {
    const { sink, out } = collector();
    const d = new FrameDecoder(sink, { maxPayload: 10 });
    d.push(Buffer.concat([encodeHeader(1, 0, 1, 1 << 30), encodeHeader(2, 1, 0, 1 << 30), encodeHeader(0, 0, 1, 0)]));
    expect(out.frames.length).toBe(3);
  });

  it.each([
    ['bad version', Buffer.from([1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0])],
    ['unknown type', Buffer.from([0, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0])],
    ['oversized data length', encodeHeader(0, 0, 1, 1025)],
  ])('rejects %s with MUX_PROTOCOL_ERROR and then ignores input', (_name, bad) => {
    const { sink, out } = collector();
    const d = new FrameDecoder(sink, { maxPayload: 1024 });
    d.push(encodeHeader(1, 0, 1, 5));
    let caught: unknown;
    try {
      d.push(bad);
    } catch (err) {
      caught = err;
    }
    expect(isVesselError(caught, 'MUX_PROTOCOL_ERROR')).toBe(true);
    expect(d.isStopped).toBe(true);
    d.push(encodeHeader(1, 0, 1, 5));
    expect(out.frames).toEqual([[1, 0, 1, 5]]);
  });

  it('survives random garbage without throwing anything but VesselError', () => {
    let seed = 12345;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let round = 0; round < 500; round++) {
      const { sink } = collector();
      const d = new FrameDecoder(sink, { maxPayload: 4096 });
      const buf = Buffer.alloc(rnd() % 400);
      for (let i = 0; i < buf.length; i++) buf[i] = rnd() % 4 === 0 ? rnd() & 0xff : 0;
      try {
        d.push(buf);
      } catch (err) {
        expect(isVesselError(err, 'MUX_PROTOCOL_ERROR')).toBe(true);
      }
    }
  });
});
