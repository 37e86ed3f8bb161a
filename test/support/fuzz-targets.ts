// Fuzz targets: every decoder that reads bytes from a guest (yamux frames, whole yamux
// sessions, ttrpc frames, ttrpc Request/Response envelopes, whole ttrpc server connections).
import { isVesselError } from '../../src/errors/index.js';
import { FrameDecoder as MuxFrameDecoder, FrameType, Flag, encodeHeader, MuxSession, HEADER_SIZE } from '../../src/mux/index.js';
import {
  FrameDecoder as TtrpcFrameDecoder,
  encodeFrame,
  encodeRequest,
  encodeResponse,
  decodeRequest,
  decodeResponse,
  DEFAULT_ENVELOPE_LIMITS,
  TtrpcServer,
  loadProtos,
  Code,
} from '../../src/ttrpc/index.js';
import { chunked, type FuzzTarget, type Rng } from './fuzz-engine.js';
import { duplexPair } from 'node:stream';
import { interopProto } from './repo.js';
import { interopServiceImpl } from './interop-service.js';
import { RawStreamRegistry } from './raw-registry.js';

// ---------------------------------------------------------------- yamux frames

function muxFrame(type: number, flags: number, id: number, payloadOrLength: Buffer | number): Buffer {
  if (typeof payloadOrLength === 'number') return encodeHeader(type, flags, id, payloadOrLength);
  return Buffer.concat([encodeHeader(type, flags, id, payloadOrLength.length), payloadOrLength]);
}

function muxCorpus(rng: Rng, role: 'client' | 'server'): Buffer[] {
  // ids the *peer* would open: the peer of a server is a client (odd ids)
  const id = (n: number) => (role === 'server' ? 2 * n + 1 : 2 * n + 2);
  const corpus: Buffer[] = [];
  for (let i = 0; i < 32; i++) {
    const frames: Buffer[] = [
      muxFrame(FrameType.WindowUpdate, Flag.SYN, id(0), 0),
      muxFrame(FrameType.Data, 0, id(0), rng.bytes(rng.int(200))),
      muxFrame(FrameType.Data, Flag.SYN, id(1), rng.bytes(rng.int(50))),
      muxFrame(FrameType.WindowUpdate, 0, id(0), 1 + rng.int(1 << 20)),
      muxFrame(FrameType.Ping, Flag.SYN, 0, rng.next()),
      muxFrame(FrameType.Ping, Flag.ACK, 0, rng.next()),
      muxFrame(FrameType.Data, Flag.FIN, id(0), 0),
      muxFrame(FrameType.WindowUpdate, Flag.RST, id(1), 0),
      muxFrame(FrameType.WindowUpdate, Flag.ACK, id(2), 0),
    ];
    if (rng.chance(0.3)) frames.push(muxFrame(FrameType.GoAway, 0, 0, rng.int(3)));
    // shuffle a little
    for (let j = frames.length - 1; j > 0; j--) {
      const k = rng.int(j + 1);
      [frames[j], frames[k]] = [frames[k]!, frames[j]!];
    }
    corpus.push(Buffer.concat(frames.slice(0, 1 + rng.int(frames.length))));
  }
  return corpus;
}

export function muxFrameDecoderTarget(maxPayload = 256 * 1024): FuzzTarget {
  let payloadLeft = 0;
  const decoder = () =>
    new MuxFrameDecoder(
      {
        onFrame(type, _flags, _id, length) {
          if (type === FrameType.Data) payloadLeft = length;
          if (length > maxPayload && type === FrameType.Data) throw new Error(`decoder passed a ${length}-byte data frame over the ${maxPayload} limit`);
        },
        onPayload(piece, last) {
          payloadLeft -= piece.length;
          if (payloadLeft < 0) throw new Error('decoder delivered more payload than the header said');
          if (last && payloadLeft !== 0) throw new Error('last piece before the payload was complete');
        },
      },
      { maxPayload },
    );
  return {
    name: 'mux-frame-decoder',
    corpus: (rng) => muxCorpus(rng, 'server'),
    run(input, rng) {
      payloadLeft = 0;
      const d = decoder();
      for (const part of chunked(rng, input)) d.push(part);
    },
    expected: (err) => isVesselError(err, 'MUX_PROTOCOL_ERROR'),
  };
}

/** A whole server session fed hostile bytes over an in-memory transport. */
export function muxSessionTarget(): FuzzTarget {
  const maxStreams = 16;
  let worst = 0;
  return {
    name: 'mux-session',
    corpus: (rng) => muxCorpus(rng, 'server'),
    async run(input, rng) {
      const [a, b] = duplexPair();
      const pair = {
        a,
        b,
        cleanup: async () => {
          a.destroy();
          b.destroy();
        },
      };
      const session = new MuxSession(pair.a, { role: 'server', maxStreams, acceptBacklog: 8 });
      const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
      let sessionOutput = 0;
      pair.b.on('data', (c: Buffer) => {
        sessionOutput += c.length;
      });
      pair.b.on('error', () => undefined);
      void (async () => {
        for (;;) {
          const s = await session.accept().catch(() => undefined);
          if (!s) return;
          s.on('error', () => undefined);
          s.resume();
          if (rng.chance(0.5)) s.end(Buffer.from('reply'));
        }
      })();
      for (const part of chunked(rng, input)) {
        if (!pair.b.write(part)) await new Promise<void>((r) => pair.b.once('drain', () => r()));
        worst = Math.max(worst, session.numStreams);
      }
      pair.b.end();
      await closed;
      if (sessionOutput > 1 << 20) throw new Error(`session wrote ${sessionOutput} bytes in answer to ${input.length}`);
      await pair.cleanup();
    },
    expected: () => false,
    check() {
      return worst > maxStreams ? `${worst} streams open, limit ${maxStreams}` : undefined;
    },
  };
}

// ---------------------------------------------------------------- ttrpc frames and envelopes

function ttrpcCorpus(rng: Rng): Buffer[] {
  const corpus: Buffer[] = [];
  const methods = ['Echo', 'ServerStream', 'ClientStream', 'BidiStream', 'Nope'];
  for (let i = 0; i < 32; i++) {
    const frames: Buffer[] = [];
    let id = 1;
    for (let j = 0; j < 1 + rng.int(4); j++) {
      const req = encodeRequest({
        service: rng.chance(0.9) ? 'vessel.test.v1.InteropTest' : 'x.Y',
        method: rng.pick(methods),
        payload: rng.chance(0.8) ? Buffer.concat([Buffer.from([0x0a, 4]), rng.bytes(4), Buffer.from([0x12, 1, 0x61])]) : undefined,
        timeoutNano: rng.chance(0.5) ? 0 : 1 + rng.int(1e9),
        metadata: rng.chance(0.5)
          ? [
              { key: 'k', value: 'v' },
              { key: 'k', value: 'w' },
            ]
          : [],
      });
      frames.push(encodeFrame(id, 1, rng.pick([0, 0, 2]), req));
      if (rng.chance(0.5)) frames.push(encodeFrame(id, 3, rng.pick([0, 1, 5]), Buffer.from([0x0a, 2, 1, 2])));
      id += 2;
    }
    corpus.push(Buffer.concat(frames));
  }
  return corpus;
}

export function ttrpcFrameDecoderTarget(maxPayload = 4096): FuzzTarget {
  let d: TtrpcFrameDecoder;
  let bad: string | undefined;
  return {
    name: 'ttrpc-frame-decoder',
    corpus: ttrpcCorpus,
    run(input, rng) {
      bad = undefined;
      d = new TtrpcFrameDecoder(
        {
          onFrame(_id, _type, _flags, payload) {
            if (payload.length > maxPayload) bad = `frame of ${payload.length} bytes passed a ${maxPayload} limit`;
          },
          onOversized() {},
        },
        maxPayload,
      );
      for (const part of chunked(rng, input)) {
        d.push(part);
        if (d.bufferedBytes > maxPayload + 10) bad = `decoder holds ${d.bufferedBytes} bytes`;
      }
    },
    expected: () => false,
    check: () => bad,
  };
}

function envelopeCorpus(rng: Rng, kind: 'request' | 'response'): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < 32; i++) {
    if (kind === 'request') {
      out.push(
        encodeRequest({
          service: 'vessel.test.v1.InteropTest',
          method: 'Echo',
          payload: rng.bytes(rng.int(64)),
          timeoutNano: rng.int(1e9),
          metadata: Array.from({ length: rng.int(4) }, (_, k) => ({ key: `k${k}`, value: `v${rng.int(9)}` })),
        }),
      );
    } else {
      out.push(
        encodeResponse(
          rng.chance(0.5)
            ? { payload: rng.bytes(rng.int(64)) }
            : { status: { code: rng.int(17) as Code, message: 'boom', details: [] }, payload: Buffer.alloc(0) },
        ),
      );
    }
  }
  return out;
}

export function ttrpcRequestTarget(): FuzzTarget {
  return {
    name: 'ttrpc-request-decode',
    corpus: (rng) => envelopeCorpus(rng, 'request'),
    run(input) {
      const req = decodeRequest(input);
      const l = DEFAULT_ENVELOPE_LIMITS;
      if (req.metadata.length > l.maxMetadataEntries) throw new Error(`metadata entries ${req.metadata.length} over the limit`);
      if (Buffer.byteLength(req.service) > l.maxNameBytes || Buffer.byteLength(req.method) > l.maxNameBytes) throw new Error('name over the limit');
    },
    expected: (err) => isVesselError(err),
  };
}

export function ttrpcResponseTarget(): FuzzTarget {
  return {
    name: 'ttrpc-response-decode',
    corpus: (rng) => envelopeCorpus(rng, 'response'),
    run(input) {
      const res = decodeResponse(input);
      if ((res.status.details?.length ?? 0) > DEFAULT_ENVELOPE_LIMITS.maxStatusDetails) throw new Error('status details over the limit');
    },
    expected: (err) => isVesselError(err),
  };
}

/** A whole ttrpc server connection fed hostile bytes. */
export function ttrpcServerTarget(): FuzzTarget {
  const server = new TtrpcServer({ maxMessageSize: 4096, maxConcurrentCalls: 8 });
  server.register(loadProtos([interopProto]).lookupService('vessel.test.v1.InteropTest'), interopServiceImpl(new RawStreamRegistry()));
  return {
    name: 'ttrpc-server',
    corpus: ttrpcCorpus,
    async run(input, rng) {
      const [a, b] = duplexPair();
      const pair = {
        a,
        b,
        cleanup: async () => {
          a.destroy();
          b.destroy();
        },
      };
      let answered = 0;
      pair.b.on('data', (c: Buffer) => {
        answered += c.length;
      });
      pair.b.on('error', () => undefined);
      const conn = server.serve(pair.a);
      for (const part of chunked(rng, input)) {
        if (!pair.b.write(part)) await new Promise<void>((r) => pair.b.once('drain', () => r()));
      }
      pair.b.end();
      await conn.closed;
      if (answered > 1 << 20) throw new Error(`server wrote ${answered} bytes in answer to ${input.length}`);
      await pair.cleanup();
    },
    expected: () => false,
  };
}

export function allFuzzTargets(): FuzzTarget[] {
  return [muxFrameDecoderTarget(), ttrpcFrameDecoderTarget(), ttrpcRequestTarget(), ttrpcResponseTarget(), muxSessionTarget(), ttrpcServerTarget()];
}

export { HEADER_SIZE };
