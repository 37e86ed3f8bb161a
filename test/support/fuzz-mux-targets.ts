// Fuzz targets over the yamux code that reads guest bytes: the frame decoder, and whole server
// sessions over an in-memory transport (one whose owner accepts every stream, one whose owner
// accepts none). Each corpus holds inputs at and just over the limits the target enforces.
import { duplexPair } from 'node:stream';
import { pino } from 'pino';
import { isVesselError } from '../../src/errors/index.js';
import { FrameDecoder, FrameType, Flag, encodeHeader, MuxSession } from '../../src/mux/index.js';
import { chunked, enforced, type FuzzTarget, type LimitTally, type Rng, type TargetOptions } from './fuzz-engine.js';

function muxFrame(type: number, flags: number, id: number, payloadOrLength: Buffer | number): Buffer {
  if (typeof payloadOrLength === 'number') return encodeHeader(type, flags, id, payloadOrLength);
  return Buffer.concat([encodeHeader(type, flags, id, payloadOrLength.length), payloadOrLength]);
}

/** Stream ids the peer of a server opens (a client: odd ids). */
const peerId = (n: number) => 2 * n + 1;

function muxCorpus(rng: Rng): Buffer[] {
  const corpus: Buffer[] = [];
  for (let i = 0; i < 32; i++) {
    const frames: Buffer[] = [
      muxFrame(FrameType.WindowUpdate, Flag.SYN, peerId(0), 0),
      muxFrame(FrameType.Data, 0, peerId(0), rng.bytes(rng.int(200))),
      muxFrame(FrameType.Data, Flag.SYN, peerId(1), rng.bytes(rng.int(50))),
      muxFrame(FrameType.WindowUpdate, 0, peerId(0), 1 + rng.int(1 << 20)),
      muxFrame(FrameType.Ping, Flag.SYN, 0, rng.next()),
      muxFrame(FrameType.Ping, Flag.ACK, 0, rng.next()),
      muxFrame(FrameType.Data, Flag.FIN, peerId(0), 0),
      muxFrame(FrameType.WindowUpdate, Flag.RST, peerId(1), 0),
      muxFrame(FrameType.WindowUpdate, Flag.ACK, peerId(2), 0),
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

/** `count` streams opened by the peer and left open (no FIN, no RST). */
function openStreams(count: number): Buffer {
  return Buffer.concat(Array.from({ length: count }, (_, n) => muxFrame(FrameType.WindowUpdate, Flag.SYN, peerId(n), 0)));
}

const DATA_FRAME_LIMIT = 256 * 1024;

/** The frame decoder: no data frame over its payload limit gets past the header. */
export function muxFrameDecoderTarget(options: TargetOptions = {}): FuzzTarget {
  const maxPayload = DATA_FRAME_LIMIT;
  let payloadLeft = 0;
  const sink = {
    onFrame(type: number, _flags: number, _id: number, length: number) {
      if (type === FrameType.Data) payloadLeft = length;
      if (length > maxPayload && type === FrameType.Data) throw new Error(`decoder passed a ${length}-byte data frame over maxPayload ${maxPayload}`);
    },
    onPayload(piece: Buffer, last: boolean) {
      payloadLeft -= piece.length;
      if (payloadLeft < 0) throw new Error('decoder delivered more payload than the header said');
      if (last && payloadLeft !== 0) throw new Error('last piece before the payload was complete');
    },
  };
  return {
    name: 'mux-frame-decoder',
    async: false,
    limits: ['maxPayload'],
    corpus: (rng) => [
      ...muxCorpus(rng),
      muxFrame(FrameType.Data, 0, peerId(0), rng.bytes(maxPayload)),
      muxFrame(FrameType.Data, 0, peerId(0), rng.bytes(maxPayload + 1)),
    ],
    run(input, rng) {
      payloadLeft = 0;
      const d = new FrameDecoder(sink, { maxPayload: enforced(options, 'maxPayload', maxPayload) });
      for (const part of chunked(rng, input)) d.push(part);
    },
    expected: (err) => isVesselError(err, 'MUX_PROTOCOL_ERROR'),
    limitOf: (err) => (/data frame of \d+ bytes exceeds limit/.test((err as Error).message) ? 'maxPayload' : undefined),
  };
}

const REFUSAL_LIMITS: Record<string, string> = { 'stream limit reached': 'maxStreams', 'accept backlog full': 'acceptBacklog' };

/**
 * A logger that tallies the session's refusals of inbound streams by the limit that refused
 * them (only the limits this target enforces; a GoAway refusal is no limit).
 */
function refusalLogger(limits: readonly string[], tally: () => LimitTally) {
  return pino(
    { level: 'warn' },
    {
      write(line: string) {
        const entry = JSON.parse(line) as { msg?: string; reason?: string };
        if (entry.msg !== 'yamux: refusing inbound stream') return;
        const limit = REFUSAL_LIMITS[entry.reason ?? ''];
        if (limit !== undefined && limits.includes(limit)) tally()(limit);
      },
    },
  );
}

/**
 * A whole server session fed hostile bytes over an in-memory transport. 'eager': its owner
 * accepts every stream at once, so open streams pile up against maxStreams; 'stalled': its
 * owner accepts none, so they pile up in the accept backlog.
 */
export function muxSessionTarget(acceptor: 'eager' | 'stalled', options: TargetOptions = {}): FuzzTarget {
  const maxStreams = 16;
  // eager: a backlog as large as the stream limit is never the one that refuses
  const acceptBacklog = acceptor === 'eager' ? maxStreams : 8;
  const limit = acceptor === 'eager' ? { name: 'maxStreams', value: maxStreams } : { name: 'acceptBacklog', value: acceptBacklog };
  let tally: LimitTally = () => undefined;
  const logger = refusalLogger([limit.name], () => tally);
  let problem: string | undefined;
  return {
    name: acceptor === 'eager' ? 'mux-session' : 'mux-session-stalled',
    async: true,
    limits: [limit.name],
    corpus: (rng) => [...muxCorpus(rng), openStreams(limit.value), openStreams(limit.value + 1)],
    async run(input, rng, runTally) {
      tally = runTally;
      problem = undefined;
      const [a, b] = duplexPair();
      const session = new MuxSession(a, {
        role: 'server',
        maxStreams: enforced(options, 'maxStreams', maxStreams),
        acceptBacklog: enforced(options, 'acceptBacklog', acceptBacklog),
        logger,
      });
      // runs right after the session has handled each chunk of input
      a.on('data', () => {
        if (session.numStreams > limit.value) problem ??= `${session.numStreams} inbound streams held, ${limit.name} is ${limit.value}`;
      });
      const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
      let sessionOutput = 0;
      b.on('data', (c: Buffer) => {
        sessionOutput += c.length;
      });
      b.on('error', () => undefined);
      if (acceptor === 'eager') {
        void (async () => {
          for (;;) {
            const s = await session.accept().catch(() => undefined);
            if (!s) return;
            s.on('error', () => undefined);
            s.resume();
            if (rng.chance(0.5)) s.end(Buffer.from('reply'));
          }
        })();
      }
      for (const part of chunked(rng, input)) {
        if (!b.write(part)) await new Promise<void>((r) => b.once('drain', () => r()));
      }
      b.end();
      await closed;
      if (sessionOutput > 1 << 20) throw new Error(`session wrote ${sessionOutput} bytes in answer to ${input.length}`);
      a.destroy();
      b.destroy();
    },
    expected: () => false,
    check: () => problem,
  };
}
