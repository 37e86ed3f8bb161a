// Fuzz targets over the ttrpc code that reads guest bytes: the frame decoder, the Request and
// Response envelopes, and a whole server connection. Each corpus holds inputs at and just over
// the limits the target enforces; the checks compare against limits fixed here, so a decoder
// built with a looser one (TargetOptions.loosen, or a bug) is a finding.
import { duplexPair } from 'node:stream';
import { isVesselError } from '../../src/errors/index.js';
import {
  FrameDecoder,
  encodeFrame,
  encodeRequest,
  encodeResponse,
  decodeRequest,
  decodeResponse,
  DEFAULT_ENVELOPE_LIMITS,
  TtrpcServer,
  loadProtos,
  Code,
  type EnvelopeLimits,
  type RequestEnvelope,
} from '../../src/ttrpc/index.js';
import { chunked, enforced, type FuzzTarget, type LimitTally, type Rng, type TargetOptions } from './fuzz-engine.js';
import { interopProto } from './repo.js';
import { interopServiceImpl } from './interop-service.js';
import { RawStreamRegistry } from './raw-registry.js';

/** ttrpc's frame payload limit (containerd/ttrpc messageLengthMax): the decoder's default must be it. */
const TTRPC_MESSAGE_LIMIT = 4 << 20;
const FRAME_HEADER = 10;
const REQUEST = 1;
const RESPONSE = 2;
const DATA = 3;
const INTEROP = 'vessel.test.v1.InteropTest';

interface FrameHeader {
  streamId: number;
  type: number;
  flags: number;
  length: number;
  /** the whole payload is in the input */
  complete: boolean;
}

/** The frame headers in a byte stream, read independently of the decoder under test. */
function frameHeaders(buf: Buffer): FrameHeader[] {
  const out: FrameHeader[] = [];
  for (let pos = 0; pos + FRAME_HEADER <= buf.length;) {
    const length = buf.readUInt32BE(pos);
    out.push({ length, streamId: buf.readUInt32BE(pos + 4), type: buf[pos + 8]!, flags: buf[pos + 9]!, complete: pos + FRAME_HEADER + length <= buf.length });
    pos += FRAME_HEADER + length;
  }
  return out;
}

function ttrpcCorpus(rng: Rng): Buffer[] {
  const corpus: Buffer[] = [];
  const methods = ['Echo', 'ServerStream', 'ClientStream', 'BidiStream', 'Nope'];
  for (let i = 0; i < 32; i++) {
    const frames: Buffer[] = [];
    let id = 1;
    for (let j = 0; j < 1 + rng.int(4); j++) {
      const req = encodeRequest({
        service: rng.chance(0.9) ? INTEROP : 'x.Y',
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
      frames.push(encodeFrame(id, REQUEST, rng.pick([0, 0, 2]), req));
      if (rng.chance(0.5)) frames.push(encodeFrame(id, DATA, rng.pick([0, 1, 5]), Buffer.from([0x0a, 2, 1, 2])));
      id += 2;
    }
    corpus.push(Buffer.concat(frames));
  }
  return corpus;
}

/** The frame decoder with its default limit: it reports exactly the frames in the input, oversized ones as such. */
export function ttrpcFrameDecoderTarget(options: TargetOptions = {}): FuzzTarget {
  const limit = TTRPC_MESSAGE_LIMIT;
  let seen: string[] = [];
  let bad: string | undefined;
  const handler = {
    onFrame(streamId: number, type: number, flags: number, payload: Buffer) {
      seen.push(`frame ${streamId}/${type}/${flags} of ${payload.length}`);
    },
    onOversized(streamId: number, type: number, flags: number, length: number) {
      seen.push(`oversized ${streamId}/${type}/${flags} of ${length}`);
    },
  };
  return {
    name: 'ttrpc-frame-decoder',
    async: false,
    limits: ['maxPayload'],
    corpus: (rng) => [...ttrpcCorpus(rng), encodeFrame(1, REQUEST, 0, Buffer.alloc(limit, 0x5a)), encodeFrame(3, REQUEST, 0, Buffer.alloc(limit + 1, 0x5a))],
    run(input, rng, tally) {
      seen = [];
      bad = undefined;
      const d = options.loosen === 'maxPayload' ? new FrameDecoder(handler, enforced(options, 'maxPayload', limit)) : new FrameDecoder(handler);
      for (const part of chunked(rng, input)) {
        d.push(part);
        if (d.bufferedBytes > limit + FRAME_HEADER) bad ??= `decoder holds ${d.bufferedBytes} bytes, over maxPayload ${limit} and a header`;
      }
      const want: string[] = [];
      for (const h of frameHeaders(input)) {
        const id = `${h.streamId}/${h.type}/${h.flags} of ${h.length}`;
        if (h.length > limit) {
          want.push(`oversized ${id}`);
          tally('maxPayload');
        } else if (h.complete) want.push(`frame ${id}`);
      }
      const i = want.findIndex((w, k) => seen[k] !== w);
      if (i >= 0 || seen.length !== want.length) {
        const k = i >= 0 ? i : want.length;
        bad ??= `frame ${k}: decoder reported ${seen[k] ?? 'nothing'}, the input holds ${want[k] ?? 'nothing'} (maxPayload ${limit})`;
      }
    },
    expected: () => false,
    check: () => bad,
  };
}

function loosened(options: TargetOptions): EnvelopeLimits {
  const l = { ...DEFAULT_ENVELOPE_LIMITS };
  for (const key of Object.keys(l) as (keyof EnvelopeLimits)[]) l[key] = enforced(options, key, l[key]);
  return l;
}

const ENVELOPE_REJECTIONS: [RegExp, keyof EnvelopeLimits][] = [
  [/^(service|method) name longer than/, 'maxNameBytes'],
  [/^more than \d+ metadata entries/, 'maxMetadataEntries'],
  [/^metadata key longer than/, 'maxMetadataKeyBytes'],
  [/^metadata value longer than/, 'maxMetadataValueBytes'],
  [/^status message longer than/, 'maxStatusMessageBytes'],
  [/^more than \d+ status details/, 'maxStatusDetails'],
];

function envelopeLimitOf(err: unknown): string | undefined {
  const message = (err as Error).message;
  return ENVELOPE_REJECTIONS.find(([re]) => re.test(message))?.[1];
}

/**
 * Throws if a decoded string cannot have come from at most `max` bytes. Its UTF-16 length is
 * what to compare: n bytes decode to at most n code units, but re-encoded as UTF-8 may grow
 * (each invalid byte becomes a 3-byte U+FFFD).
 */
function overLimit(what: string, s: string, limit: string, max: number): void {
  if (s.length > max) throw new Error(`${what} of ${s.length} characters over ${limit} ${max} bytes`);
}

function requestCorpus(rng: Rng): Buffer[] {
  const l = DEFAULT_ENVELOPE_LIMITS;
  const base = (): RequestEnvelope => ({
    service: INTEROP,
    method: 'Echo',
    payload: rng.bytes(rng.int(64)),
    timeoutNano: rng.int(1e9),
    metadata: Array.from({ length: rng.int(4) }, (_, k) => ({ key: `k${k}`, value: `v${rng.int(9)}` })),
  });
  const entries = (n: number) => Array.from({ length: n }, (_, k) => ({ key: `k${k}`, value: 'v' }));
  const out = Array.from({ length: 32 }, () => encodeRequest(base()));
  for (const over of [0, 1]) {
    out.push(
      encodeRequest({ ...base(), service: 's'.repeat(l.maxNameBytes + over) }),
      encodeRequest({ ...base(), method: 'm'.repeat(l.maxNameBytes + over) }),
      encodeRequest({ ...base(), metadata: entries(l.maxMetadataEntries + over) }),
      encodeRequest({ ...base(), metadata: [{ key: 'k'.repeat(l.maxMetadataKeyBytes + over), value: 'v' }] }),
      encodeRequest({ ...base(), metadata: [{ key: 'k', value: 'v'.repeat(l.maxMetadataValueBytes + over) }] }),
    );
  }
  return out;
}

export function ttrpcRequestTarget(options: TargetOptions = {}): FuzzTarget {
  const limits = loosened(options);
  return {
    name: 'ttrpc-request-decode',
    async: false,
    limits: ['maxNameBytes', 'maxMetadataEntries', 'maxMetadataKeyBytes', 'maxMetadataValueBytes'],
    corpus: requestCorpus,
    run(input) {
      const req = decodeRequest(input, limits);
      const l = DEFAULT_ENVELOPE_LIMITS;
      if (req.metadata.length > l.maxMetadataEntries)
        throw new Error(`metadata entries ${req.metadata.length} over maxMetadataEntries ${l.maxMetadataEntries}`);
      for (const name of [req.service, req.method]) overLimit('name', name, 'maxNameBytes', l.maxNameBytes);
      for (const { key, value } of req.metadata) {
        overLimit('metadata key', key, 'maxMetadataKeyBytes', l.maxMetadataKeyBytes);
        overLimit('metadata value', value, 'maxMetadataValueBytes', l.maxMetadataValueBytes);
      }
    },
    expected: (err) => isVesselError(err),
    limitOf: envelopeLimitOf,
  };
}

function responseCorpus(rng: Rng): Buffer[] {
  const l = DEFAULT_ENVELOPE_LIMITS;
  const out = Array.from({ length: 32 }, () =>
    encodeResponse(
      rng.chance(0.5) ? { payload: rng.bytes(rng.int(64)) } : { status: { code: rng.int(17) as Code, message: 'boom', details: [] }, payload: Buffer.alloc(0) },
    ),
  );
  for (const over of [0, 1]) {
    out.push(
      encodeResponse({ status: { code: Code.INTERNAL, message: 'm'.repeat(l.maxStatusMessageBytes + over), details: [] } }),
      encodeResponse({ status: { code: Code.INTERNAL, message: 'boom', details: Array.from({ length: l.maxStatusDetails + over }, () => rng.bytes(8)) } }),
    );
  }
  return out;
}

export function ttrpcResponseTarget(options: TargetOptions = {}): FuzzTarget {
  const limits = loosened(options);
  return {
    name: 'ttrpc-response-decode',
    async: false,
    limits: ['maxStatusMessageBytes', 'maxStatusDetails'],
    corpus: responseCorpus,
    run(input) {
      const res = decodeResponse(input, limits);
      const l = DEFAULT_ENVELOPE_LIMITS;
      const details = res.status.details?.length ?? 0;
      if (details > l.maxStatusDetails) throw new Error(`${details} status details over maxStatusDetails ${l.maxStatusDetails}`);
      overLimit('status message', res.status.message, 'maxStatusMessageBytes', l.maxStatusMessageBytes);
    },
    expected: (err) => isVesselError(err),
    limitOf: envelopeLimitOf,
  };
}

/** An Echo request whose frame payload (the Request envelope) is exactly `size` bytes. */
function echoRequestFrame(streamId: number, size: number): Buffer {
  const envelope = (padding: number) =>
    encodeRequest({
      service: INTEROP,
      method: 'Echo',
      // EchoRequest{message: "x"} and an unknown bytes field 15 the server skips
      payload: Buffer.concat([Buffer.from([0x12, 1, 0x78, 0x7a]), varint(padding), Buffer.alloc(padding, 0x70)]),
      timeoutNano: 0,
      metadata: [],
    });
  let padding = size - envelope(0).length;
  while (envelope(padding).length > size) padding--;
  const req = envelope(padding);
  if (req.length !== size) throw new Error(`cannot build an Echo request of ${size} bytes`);
  return encodeFrame(streamId, REQUEST, 0, req);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  for (; n > 0x7f; n >>>= 7) out.push((n & 0x7f) | 0x80);
  out.push(n);
  return Buffer.from(out);
}

/** `count` ClientStream calls left open (no remote-closed): each holds a concurrent-call slot. */
function openCalls(count: number): Buffer {
  const req = encodeRequest({ service: INTEROP, method: 'ClientStream', payload: undefined, timeoutNano: 0, metadata: [] });
  return Buffer.concat(Array.from({ length: count }, (_, k) => encodeFrame(2 * k + 1, REQUEST, 0, req)));
}

const SERVER_REJECTIONS: [RegExp, string][] = [
  [/^message length \d+ exceed maximum message size/, 'maxMessageSize'],
  [/^too many concurrent calls/, 'maxConcurrentCalls'],
];

/**
 * A whole ttrpc server connection fed hostile bytes. Checks: no more calls run at once than
 * maxConcurrentCalls, and every frame over maxMessageSize is answered RESOURCE_EXHAUSTED.
 */
export function ttrpcServerTarget(options: TargetOptions = {}): FuzzTarget {
  const maxMessageSize = 4096;
  const maxConcurrentCalls = 8;
  const server = new TtrpcServer({
    maxMessageSize: enforced(options, 'maxMessageSize', maxMessageSize),
    maxConcurrentCalls: enforced(options, 'maxConcurrentCalls', maxConcurrentCalls),
  });
  server.register(loadProtos([interopProto]).lookupService(INTEROP), interopServiceImpl(new RawStreamRegistry()));
  let problem: string | undefined;
  return {
    name: 'ttrpc-server',
    async: true,
    limits: ['maxMessageSize', 'maxConcurrentCalls'],
    corpus: (rng) => [
      ...ttrpcCorpus(rng),
      echoRequestFrame(1, maxMessageSize),
      echoRequestFrame(1, maxMessageSize + 1),
      openCalls(maxConcurrentCalls),
      openCalls(maxConcurrentCalls + 1),
    ],
    async run(input, rng, tally) {
      problem = undefined;
      const [a, b] = duplexPair();
      const answers: Buffer[] = [];
      b.on('data', (c: Buffer) => answers.push(c));
      b.on('error', () => undefined);
      const conn = server.serve(a);
      // runs right after the connection has handled each chunk of input
      a.on('data', () => {
        if (conn.activeCalls > maxConcurrentCalls) problem ??= `${conn.activeCalls} calls running at once, maxConcurrentCalls is ${maxConcurrentCalls}`;
      });
      for (const part of chunked(rng, input)) {
        if (!b.write(part)) await new Promise<void>((r) => b.once('drain', () => r()));
      }
      // The server drops unsent answers when the peer half-closes; the in-memory pipe and the
      // server's batched writes both go out on the next ticks: let them before ending.
      await new Promise<void>((r) => setImmediate(r));
      b.end();
      await conn.closed;
      a.destroy();
      b.destroy();
      const output = Buffer.concat(answers);
      if (output.length > 1 << 20) throw new Error(`server wrote ${output.length} bytes in answer to ${input.length}`);
      problem ??= checkAnswers(input, output, maxMessageSize, tally);
    },
    expected: () => false,
    check: () => problem,
  };
}

/** Tallies the server's limit refusals; a frame over the limit that is not refused is a problem. */
function checkAnswers(input: Buffer, output: Buffer, maxMessageSize: number, tally: LimitTally): string | undefined {
  const refusedOversized = new Set<number>();
  let pos = 0;
  for (const h of frameHeaders(output)) {
    const payload = output.subarray(pos + FRAME_HEADER, pos + FRAME_HEADER + h.length);
    pos += FRAME_HEADER + h.length;
    if (h.type !== RESPONSE || !h.complete) continue;
    const { status } = decodeResponse(payload);
    if (status.code !== Code.RESOURCE_EXHAUSTED) continue;
    const limit = SERVER_REJECTIONS.find(([re]) => re.test(status.message))?.[1];
    if (limit === undefined) continue;
    tally(limit);
    if (limit === 'maxMessageSize') refusedOversized.add(h.streamId);
  }
  const missed = frameHeaders(input).find((h) => h.length > maxMessageSize && !refusedOversized.has(h.streamId));
  return missed && `a ${missed.length}-byte frame on stream ${missed.streamId} was not refused (maxMessageSize ${maxMessageSize})`;
}
