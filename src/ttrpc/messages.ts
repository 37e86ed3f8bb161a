// ttrpc envelope codecs, hand-written for speed and bounded for untrusted input:
//   Request{service=1, method=2, payload=3 bytes, timeout_nano=4 int64, metadata=5 repeated KeyValue{key=1,value=2}}
//   Response{status=1 google.rpc.Status{code=1, message=2, details=3 repeated Any}, payload=2 bytes}
// Decoded `payload`/`details` are views into the input buffer (no copy).
import { Code } from './codes.js';
import type { Status } from './status.js';
import { ProtoReader, WIRE_LEN, WIRE_VARINT, int64Size, lenFieldSize, protocolError, writeInt64, writeVarint } from './wire.js';

export interface KeyValue {
  key: string;
  value: string;
}

export interface RequestEnvelope {
  service: string;
  method: string;
  /** undefined when the field is absent (matters for streaming requests, as in Go). */
  payload: Uint8Array | undefined;
  /** Nanoseconds; 0 = no deadline. Above 2^53 precision is lost, which no deadline needs. */
  timeoutNano: number;
  metadata: KeyValue[];
}

export interface ResponseEnvelope {
  /** Absent status is OK. */
  status: Status;
  payload: Uint8Array;
}

export interface EnvelopeLimits {
  maxNameBytes: number;
  maxMetadataEntries: number;
  maxMetadataKeyBytes: number;
  maxMetadataValueBytes: number;
  maxStatusMessageBytes: number;
  maxStatusDetails: number;
}

export const DEFAULT_ENVELOPE_LIMITS: Readonly<EnvelopeLimits> = Object.freeze({
  maxNameBytes: 1024,
  maxMetadataEntries: 512,
  maxMetadataKeyBytes: 1024,
  maxMetadataValueBytes: 64 * 1024,
  maxStatusMessageBytes: 1024 * 1024,
  maxStatusDetails: 64,
});

const EMPTY = new Uint8Array(0);

// ---------- Request ----------

function metadataEntrySize(kv: KeyValue): number {
  const k = Buffer.byteLength(kv.key);
  const v = Buffer.byteLength(kv.value);
  return (k > 0 ? lenFieldSize(1, k) : 0) + (v > 0 ? lenFieldSize(1, v) : 0);
}

/** Encoded size of a Request envelope. */
export function requestSize(req: RequestEnvelope): number {
  let size = 0;
  const s = Buffer.byteLength(req.service);
  if (s > 0) size += lenFieldSize(1, s);
  const m = Buffer.byteLength(req.method);
  if (m > 0) size += lenFieldSize(1, m);
  if (req.payload !== undefined && req.payload.length > 0) size += lenFieldSize(1, req.payload.length);
  if (req.timeoutNano !== 0) size += 1 + int64Size(req.timeoutNano);
  for (const kv of req.metadata) size += lenFieldSize(1, metadataEntrySize(kv));
  return size;
}

function writeString(buf: Buffer, pos: number, tag: number, s: string): number {
  if (s.length === 0) return pos;
  buf[pos++] = tag;
  const n = Buffer.byteLength(s);
  pos = writeVarint(buf, pos, n);
  return pos + buf.write(s, pos, 'utf8');
}

function writeBytes(buf: Buffer, pos: number, tag: number, b: Uint8Array): number {
  if (b.length === 0) return pos;
  buf[pos++] = tag;
  pos = writeVarint(buf, pos, b.length);
  buf.set(b, pos);
  return pos + b.length;
}

/** Writes a Request envelope at `pos`; returns the end position. */
export function writeRequest(buf: Buffer, pos: number, req: RequestEnvelope): number {
  pos = writeString(buf, pos, 0x0a, req.service);
  pos = writeString(buf, pos, 0x12, req.method);
  if (req.payload !== undefined) pos = writeBytes(buf, pos, 0x1a, req.payload);
  if (req.timeoutNano !== 0) {
    buf[pos++] = 0x20;
    pos = writeInt64(buf, pos, req.timeoutNano);
  }
  for (const kv of req.metadata) {
    buf[pos++] = 0x2a;
    pos = writeVarint(buf, pos, metadataEntrySize(kv));
    pos = writeString(buf, pos, 0x0a, kv.key);
    pos = writeString(buf, pos, 0x12, kv.value);
  }
  return pos;
}

export function encodeRequest(req: RequestEnvelope): Buffer {
  const buf = Buffer.allocUnsafe(requestSize(req));
  writeRequest(buf, 0, req);
  return buf;
}

function decodeKeyValue(r: ProtoReader, limits: EnvelopeLimits): KeyValue {
  const n = r.length();
  const end = r.pos + n;
  const inner = new ProtoReader(r.buf, r.pos, end);
  let key = '';
  let value = '';
  while (!inner.done) {
    const tag = inner.varint();
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1 && wt === WIRE_LEN) key = inner.string(limits.maxMetadataKeyBytes, 'metadata key');
    else if (field === 2 && wt === WIRE_LEN) value = inner.string(limits.maxMetadataValueBytes, 'metadata value');
    else inner.skip(wt);
  }
  r.pos = end;
  return { key, value };
}

export function decodeRequest(buf: Uint8Array, limits: EnvelopeLimits = DEFAULT_ENVELOPE_LIMITS): RequestEnvelope {
  const r = new ProtoReader(buf, 0, buf.length);
  const req: RequestEnvelope = { service: '', method: '', payload: undefined, timeoutNano: 0, metadata: [] };
  while (!r.done) {
    const tag = r.varint();
    const field = tag >>> 3;
    const wt = tag & 7;
    switch (field) {
      case 1:
        if (wt !== WIRE_LEN) break;
        req.service = r.string(limits.maxNameBytes, 'service name');
        continue;
      case 2:
        if (wt !== WIRE_LEN) break;
        req.method = r.string(limits.maxNameBytes, 'method name');
        continue;
      case 3:
        if (wt !== WIRE_LEN) break;
        req.payload = r.bytes();
        continue;
      case 4:
        if (wt !== WIRE_VARINT) break;
        req.timeoutNano = r.varint();
        continue;
      case 5:
        if (wt !== WIRE_LEN) break;
        if (req.metadata.length >= limits.maxMetadataEntries) {
          throw protocolError(`more than ${limits.maxMetadataEntries} metadata entries`);
        }
        req.metadata.push(decodeKeyValue(r, limits));
        continue;
    }
    if (field === 0) throw protocolError('invalid field number 0');
    r.skip(wt);
  }
  return req;
}

// ---------- Response ----------

function statusSize(status: Status): number {
  let size = 0;
  if (status.code !== Code.OK) size += 1 + int64Size(status.code);
  const m = Buffer.byteLength(status.message);
  if (m > 0) size += lenFieldSize(1, m);
  for (const d of status.details) size += lenFieldSize(1, d.length);
  return size;
}

/** Encoded size of a Response envelope; an OK status without message/details is omitted. */
export function responseSize(status: Status | undefined, payload: Uint8Array | undefined): number {
  let size = 0;
  if (status !== undefined) {
    const s = statusSize(status);
    if (s > 0) size += lenFieldSize(1, s);
  }
  if (payload !== undefined && payload.length > 0) size += lenFieldSize(1, payload.length);
  return size;
}

/** Writes a Response envelope at `pos`; returns the end position. */
export function writeResponse(buf: Buffer, pos: number, status: Status | undefined, payload: Uint8Array | undefined): number {
  if (status !== undefined) {
    const s = statusSize(status);
    if (s > 0) {
      buf[pos++] = 0x0a;
      pos = writeVarint(buf, pos, s);
      if (status.code !== Code.OK) {
        buf[pos++] = 0x08;
        pos = writeInt64(buf, pos, status.code);
      }
      pos = writeString(buf, pos, 0x12, status.message);
      for (const d of status.details) {
        buf[pos++] = 0x1a;
        pos = writeVarint(buf, pos, d.length);
        buf.set(d, pos);
        pos += d.length;
      }
    }
  }
  if (payload !== undefined) pos = writeBytes(buf, pos, 0x12, payload);
  return pos;
}

export function encodeResponse(res: { status?: Status; payload?: Uint8Array }): Buffer {
  const buf = Buffer.allocUnsafe(responseSize(res.status, res.payload));
  writeResponse(buf, 0, res.status, res.payload);
  return buf;
}

function decodeStatus(r: ProtoReader, limits: EnvelopeLimits): Status {
  const n = r.length();
  const end = r.pos + n;
  const inner = new ProtoReader(r.buf, r.pos, end);
  const status: Status = { code: Code.OK, message: '', details: [] };
  while (!inner.done) {
    const tag = inner.varint();
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1 && wt === WIRE_VARINT) {
      status.code = inner.varint() | 0; // int32
    } else if (field === 2 && wt === WIRE_LEN) {
      status.message = inner.string(limits.maxStatusMessageBytes, 'status message');
    } else if (field === 3 && wt === WIRE_LEN) {
      if (status.details.length >= limits.maxStatusDetails) {
        throw protocolError(`more than ${limits.maxStatusDetails} status details`);
      }
      status.details.push(inner.bytes());
    } else {
      if (field === 0) throw protocolError('invalid field number 0');
      inner.skip(wt);
    }
  }
  r.pos = end;
  return status;
}

export function decodeResponse(buf: Uint8Array, limits: EnvelopeLimits = DEFAULT_ENVELOPE_LIMITS): ResponseEnvelope {
  const r = new ProtoReader(buf, 0, buf.length);
  let status: Status | undefined;
  let payload: Uint8Array = EMPTY;
  while (!r.done) {
    const tag = r.varint();
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1 && wt === WIRE_LEN) {
      status = decodeStatus(r, limits);
    } else if (field === 2 && wt === WIRE_LEN) {
      payload = r.bytes();
    } else {
      if (field === 0) throw protocolError('invalid field number 0');
      r.skip(wt);
    }
  }
  return { status: status ?? { code: Code.OK, message: '', details: [] }, payload };
}
