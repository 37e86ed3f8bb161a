// yamux frame codec (hashicorp/yamux spec.md): a 12-byte big-endian header
// [version u8][type u8][flags u16][stream id u32][length u32], followed by `length`
// payload bytes for data frames only. The decoder is incremental, never concatenates
// payloads (payload pieces are views into the input chunks) and bounds every length.

import { VesselError } from '../errors/index.js';

export const PROTOCOL_VERSION = 0;
export const HEADER_SIZE = 12;

export const FrameType = {
  DATA: 0,
  WINDOW_UPDATE: 1,
  PING: 2,
  GO_AWAY: 3,
  // PascalCase aliases (same values) for callers written in that style
  Data: 0,
  WindowUpdate: 1,
  Ping: 2,
  GoAway: 3,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export const Flag = {
  SYN: 1,
  ACK: 2,
  FIN: 4,
  RST: 8,
} as const;

export const GoAwayCode = {
  NORMAL: 0,
  PROTOCOL_ERROR: 1,
  INTERNAL_ERROR: 2,
} as const;
export type GoAwayCode = 0 | 1 | 2;

/** Initial per-stream window both sides assume (256 KiB). */
export const INITIAL_STREAM_WINDOW = 256 * 1024;

/** Encodes a frame header into `target` at `offset` (default: a fresh 12-byte buffer). */
export function encodeHeader(
  type: number,
  flags: number,
  streamId: number,
  length: number,
  target: Buffer = Buffer.allocUnsafe(HEADER_SIZE),
  offset = 0,
): Buffer {
  target[offset] = PROTOCOL_VERSION;
  target[offset + 1] = type;
  target.writeUInt16BE(flags & 0xffff, offset + 2);
  target.writeUInt32BE(streamId >>> 0, offset + 4);
  target.writeUInt32BE(length >>> 0, offset + 8);
  return target;
}

/** Receives decoded frames. Handlers may throw; the exception propagates out of push(). */
export interface FrameSink {
  /** A complete header. For data frames with length > 0, onPayload calls follow. */
  onFrame(type: FrameType, flags: number, streamId: number, length: number): void;
  /** A piece of the current data frame's payload; `last` is true on the final piece. */
  onPayload(piece: Buffer, last: boolean): void;
}

export interface FrameDecoderOptions {
  /** Largest data payload accepted; a longer data frame is a protocol error. */
  maxPayload: number;
}

/**
 * Incremental decoder. push() throws VesselError('MUX_PROTOCOL_ERROR') on a bad version,
 * an unknown type or an oversized data length; after that (or after stop()) it ignores
 * all further input. Memory held: one 12-byte scratch header, nothing else.
 */
export class FrameDecoder {
  private readonly sink: FrameSink;
  private readonly maxPayload: number;
  private readonly scratch = Buffer.alloc(HEADER_SIZE);
  private scratchLen = 0;
  private payloadRemaining = 0;
  private stopped = false;

  constructor(sink: FrameSink, options: FrameDecoderOptions) {
    this.sink = sink;
    this.maxPayload = options.maxPayload;
  }

  /** True once stop() was called or a malformed frame was seen. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** Ignore all further input (including the rest of a chunk being pushed). */
  stop(): void {
    this.stopped = true;
  }

  push(chunk: Buffer): void {
    let pos = 0;
    const end = chunk.length;
    while (pos < end && !this.stopped) {
      if (this.payloadRemaining > 0) {
        const n = Math.min(this.payloadRemaining, end - pos);
        this.payloadRemaining -= n;
        const piece = pos === 0 && n === end ? chunk : chunk.subarray(pos, pos + n);
        pos += n;
        this.sink.onPayload(piece, this.payloadRemaining === 0);
        continue;
      }
      let hdr: Buffer;
      let at: number;
      if (this.scratchLen === 0 && end - pos >= HEADER_SIZE) {
        hdr = chunk;
        at = pos;
        pos += HEADER_SIZE;
      } else {
        const n = Math.min(HEADER_SIZE - this.scratchLen, end - pos);
        chunk.copy(this.scratch, this.scratchLen, pos, pos + n);
        this.scratchLen += n;
        pos += n;
        if (this.scratchLen < HEADER_SIZE) return;
        this.scratchLen = 0;
        hdr = this.scratch;
        at = 0;
      }
      this.header(hdr, at);
    }
  }

  private header(buf: Buffer, at: number): void {
    const version = buf[at]!;
    const type = buf[at + 1]!;
    const flags = (buf[at + 2]! << 8) | buf[at + 3]!;
    const streamId = buf.readUInt32BE(at + 4);
    const length = buf.readUInt32BE(at + 8);
    if (version !== PROTOCOL_VERSION) {
      this.fail(`unsupported yamux version ${version}`);
    }
    if (type > FrameType.GO_AWAY) {
      this.fail(`unknown yamux frame type ${type}`);
    }
    if (type === FrameType.DATA) {
      if (length > this.maxPayload) {
        this.fail(`data frame of ${length} bytes exceeds limit ${this.maxPayload}`);
      }
      this.payloadRemaining = length;
    }
    this.sink.onFrame(type as FrameType, flags, streamId, length);
  }

  private fail(message: string): never {
    this.stopped = true;
    throw new VesselError('MUX_PROTOCOL_ERROR', message);
  }
}
