// ttrpc framing: 10-byte header (uint32 BE payload length, uint32 BE stream id, uint8 type,
// uint8 flags) + payload. The decoder is incremental and bounded: a frame whose payload
// exceeds the maximum is reported and skipped as it streams past, never buffered.

export const HEADER_LENGTH = 10;
export const MAX_MESSAGE_SIZE = 4 << 20;

export const MessageType = { REQUEST: 1, RESPONSE: 2, DATA: 3 } as const;
export const Flags = { REMOTE_CLOSED: 0x1, REMOTE_OPEN: 0x2, NO_DATA: 0x4 } as const;

export function writeFrameHeader(buf: Buffer, offset: number, length: number, streamId: number, type: number, flags: number): void {
  buf.writeUInt32BE(length, offset);
  buf.writeUInt32BE(streamId, offset + 4);
  buf[offset + 8] = type;
  buf[offset + 9] = flags;
}

/** One frame as bytes. Performs no size check, so tests can build oversized frames. */
export function encodeFrame(streamId: number, type: number, flags: number, payload?: Uint8Array): Buffer {
  const n = payload?.length ?? 0;
  const buf = Buffer.allocUnsafe(HEADER_LENGTH + n);
  writeFrameHeader(buf, 0, n, streamId, type, flags);
  if (payload !== undefined && n > 0) buf.set(payload, HEADER_LENGTH);
  return buf;
}

export interface FrameHandler {
  /** A complete frame. `payload` may be a view into the pushed chunk: copy it to keep it past the call. */
  onFrame(streamId: number, type: number, flags: number, payload: Buffer): void;
  /** A frame whose payload length exceeds the maximum; its payload is being skipped. */
  onOversized(streamId: number, type: number, flags: number, length: number): void;
}

const STATE_HEADER = 0;
const STATE_PAYLOAD = 1;
const STATE_SKIP = 2;
const EMPTY = Buffer.alloc(0);

export class FrameDecoder {
  private state = STATE_HEADER;
  private readonly header = Buffer.allocUnsafe(HEADER_LENGTH);
  private headerFill = 0;
  private payload: Buffer = EMPTY;
  private payloadFill = 0;
  private skipRemaining = 0;
  private streamId = 0;
  private type = 0;
  private flags = 0;

  constructor(
    private readonly handler: FrameHandler,
    readonly maxPayload: number = MAX_MESSAGE_SIZE,
  ) {}

  /** Bytes held between pushes (a partial header or payload); at most maxPayload + header. */
  get bufferedBytes(): number {
    return this.state === STATE_PAYLOAD ? this.payloadFill + HEADER_LENGTH : this.headerFill;
  }

  push(chunk: Buffer): void {
    const end = chunk.length;
    let off = 0;
    while (off < end) {
      if (this.state === STATE_SKIP) {
        const n = Math.min(this.skipRemaining, end - off);
        this.skipRemaining -= n;
        off += n;
        if (this.skipRemaining === 0) this.state = STATE_HEADER;
        continue;
      }
      if (this.state === STATE_PAYLOAD) {
        const n = Math.min(this.payload.length - this.payloadFill, end - off);
        chunk.copy(this.payload, this.payloadFill, off, off + n);
        this.payloadFill += n;
        off += n;
        if (this.payloadFill === this.payload.length) {
          const payload = this.payload;
          this.payload = EMPTY;
          this.payloadFill = 0;
          this.state = STATE_HEADER;
          this.handler.onFrame(this.streamId, this.type, this.flags, payload);
        }
        continue;
      }
      // STATE_HEADER
      let length: number;
      if (this.headerFill === 0 && end - off >= HEADER_LENGTH) {
        // fast path: whole header in this chunk
        length = chunk.readUInt32BE(off);
        this.streamId = chunk.readUInt32BE(off + 4);
        this.type = chunk[off + 8]!;
        this.flags = chunk[off + 9]!;
        off += HEADER_LENGTH;
        if (length <= this.maxPayload && end - off >= length) {
          // fast path: whole frame in this chunk, no copy
          const payload = chunk.subarray(off, off + length);
          off += length;
          this.handler.onFrame(this.streamId, this.type, this.flags, payload);
          continue;
        }
      } else {
        const n = Math.min(HEADER_LENGTH - this.headerFill, end - off);
        chunk.copy(this.header, this.headerFill, off, off + n);
        this.headerFill += n;
        off += n;
        if (this.headerFill < HEADER_LENGTH) continue;
        this.headerFill = 0;
        length = this.header.readUInt32BE(0);
        this.streamId = this.header.readUInt32BE(4);
        this.type = this.header[8]!;
        this.flags = this.header[9]!;
      }
      if (length > this.maxPayload) {
        this.skipRemaining = length;
        this.state = STATE_SKIP;
        this.handler.onOversized(this.streamId, this.type, this.flags, length);
        continue;
      }
      if (length === 0) {
        this.handler.onFrame(this.streamId, this.type, this.flags, EMPTY);
        continue;
      }
      this.payload = Buffer.allocUnsafe(length);
      this.payloadFill = 0;
      this.state = STATE_PAYLOAD;
    }
  }
}
