// Contract: yamux (hashicorp/yamux v0.1.2 spec) over any Node Duplex. MuxSession opens and
// accepts MuxStreams (Node Duplex with per-stream flow control, half-close via end(), reset
// via destroy()); every failure is a VesselError with a MUX_* code; a hostile peer can cost
// only bounded memory and never makes this layer throw. Imports only src/errors.

export { MuxSession } from './session.js';
export { MuxStream } from './stream.js';
export type { SessionOptions } from './options.js';
export {
  FrameDecoder,
  encodeHeader,
  Flag,
  FrameType,
  GoAwayCode,
  HEADER_SIZE,
  INITIAL_STREAM_WINDOW,
  PROTOCOL_VERSION,
  type FrameDecoderOptions,
  type FrameSink,
} from './frame.js';
