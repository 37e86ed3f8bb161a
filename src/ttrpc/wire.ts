// Minimal protobuf wire-format reader and writer helpers for the ttrpc envelopes.
// The reader never reads past `end` and reports malformed input as TTRPC_PROTOCOL_ERROR.
import { VesselError } from '../errors/index.js';

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

const TWO_32 = 4294967296;

export function protocolError(message: string): VesselError {
  return new VesselError('TTRPC_PROTOCOL_ERROR', message);
}

export class ProtoReader {
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint as a JS number; values above 2^53 lose precision, negatives (10 bytes) come back negative. */
  varint(): number {
    const buf = this.buf;
    let lo = 0;
    let shift = 0;
    let b: number;
    // low 28 bits
    for (; shift < 28; shift += 7) {
      if (this.pos >= this.end) throw protocolError('truncated varint');
      b = buf[this.pos++]!;
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) return lo >>> 0;
    }
    // bits 28..63
    if (this.pos >= this.end) throw protocolError('truncated varint');
    b = buf[this.pos++]!;
    lo |= (b & 0x0f) << 28;
    let hi = (b & 0x7f) >> 4;
    if (b >= 0x80) {
      for (shift = 3; ; shift += 7) {
        if (shift > 63) throw protocolError('varint too long');
        if (this.pos >= this.end) throw protocolError('truncated varint');
        b = buf[this.pos++]!;
        if (shift < 32) hi |= (b & 0x7f) << shift;
        if (b < 0x80) break;
      }
    }
    lo >>>= 0;
    if (hi & 0x80000000) {
      // negative int64: two's complement
      return -((~hi >>> 0) * TWO_32 + ((~lo >>> 0) + 1));
    }
    return (hi >>> 0) * TWO_32 + lo;
  }

  /** A length prefix, checked against the remaining bytes. */
  length(): number {
    const n = this.varint();
    if (n < 0 || n > this.end - this.pos) throw protocolError('length exceeds message');
    return n;
  }

  string(max: number, what: string): string {
    const n = this.length();
    if (n > max) throw protocolError(`${what} longer than ${max} bytes`);
    const start = this.pos;
    this.pos += n;
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + start, n).toString('utf8');
  }

  bytes(): Buffer {
    const n = this.length();
    const start = this.pos;
    this.pos += n;
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + start, n);
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.advance(8);
        return;
      case WIRE_LEN: {
        const n = this.length();
        this.pos += n;
        return;
      }
      case WIRE_FIXED32:
        this.advance(4);
        return;
      default:
        throw protocolError(`unsupported wire type ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (n > this.end - this.pos) throw protocolError('truncated field');
    this.pos += n;
  }
}

/** Bytes a non-negative varint below 2^53 takes. */
export function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  let size = 4;
  n = Math.floor(n / 0x10000000);
  while (n > 0) {
    size++;
    n = Math.floor(n / 128);
  }
  return size;
}

/** Size of an int32/int64 field value: negatives take 10 bytes. */
export function int64Size(n: number): number {
  return n < 0 ? 10 : varintSize(n);
}

/** Writes a non-negative varint below 2^53; returns the new position. */
export function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n = n >= 0x10000000 ? Math.floor(n / 128) : n >>> 7;
  }
  buf[pos++] = n;
  return pos;
}

/** Writes an int64 (two's complement for negatives); returns the new position. */
export function writeInt64(buf: Buffer, pos: number, n: number): number {
  if (n >= 0) return writeVarint(buf, pos, n);
  let big = BigInt.asUintN(64, BigInt(Math.trunc(n)));
  for (let i = 0; i < 9; i++) {
    buf[pos++] = Number(big & 0x7fn) | 0x80;
    big >>= 7n;
  }
  buf[pos++] = Number(big);
  return pos;
}

export function lenFieldSize(tagSize: number, n: number): number {
  return tagSize + varintSize(n) + n;
}
