// Contract: containerd ttrpc (wire-compatible with github.com/containerd/ttrpc v1.2) over
// any Node Duplex — client and server, unary and streaming, google.rpc status codes,
// deadlines (timeout_nano), metadata, 4 MiB frames. Input from the peer is untrusted:
// decoders bound lengths and counts, oversized frames are skipped unbuffered, reading
// pauses under backpressure, malformed input yields a status or a closed connection,
// never an exception. Imports only src/errors.
export { Code } from './codes.js';
export { TtrpcError, isTtrpcError, statusFromError, errorFromStatus, type Status } from './status.js';
export type { Metadata } from './metadata.js';
export { loadProtos, encodeMessage, decodeMessage } from './protos.js';
export type {
  CallContext,
  CallOptions,
  UnaryHandler,
  ServerStreamHandler,
  ClientStreamHandler,
  BidiStreamHandler,
  ClientStreamCall,
  BidiStreamCall,
  DeepPartial,
  UnaryClient,
  UnaryServer,
  StubMethod,
} from './types.js';
export { TtrpcServer, type ServerOptions } from './server.js';
export { ServerConnection } from './server-connection.js';
export { TtrpcClient, type ClientOptions } from './client.js';
export { encodeFrame, FrameDecoder, MessageType, Flags, HEADER_LENGTH, MAX_MESSAGE_SIZE, type FrameHandler } from './frame.js';
export {
  encodeRequest,
  decodeRequest,
  encodeResponse,
  decodeResponse,
  DEFAULT_ENVELOPE_LIMITS,
  type RequestEnvelope,
  type ResponseEnvelope,
  type EnvelopeLimits,
  type KeyValue,
} from './messages.js';
