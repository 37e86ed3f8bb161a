// Contract: every error vessel raises on purpose is a VesselError with a stable `code`.
// Codes are part of the API: callers (and the gRPC / ttrpc edges, which map them to
// status codes in one place) switch on `code`, never on message text.

export type VesselErrorCode =
  // configuration and lifecycle (vm layer)
  | 'INVALID_ARGUMENT'
  | 'ALREADY_EXISTS'
  | 'NOT_FOUND'
  | 'CONFIG_AFTER_START'
  | 'NOT_STARTED'
  | 'ALREADY_STARTED'
  | 'NOT_REUSABLE'
  | 'START_FAILED'
  | 'VM_EXITED'
  | 'DEADLINE_EXCEEDED'
  | 'UNAVAILABLE'
  | 'STATE_DIR_IN_USE'
  | 'RESOURCE_EXHAUSTED'
  // guest agent streams
  | 'STREAM_REFUSED'
  // mux (yamux)
  | 'MUX_PROTOCOL_ERROR'
  | 'MUX_SESSION_CLOSED'
  | 'MUX_GO_AWAY'
  | 'MUX_STREAM_RESET'
  | 'MUX_STREAM_LIMIT'
  | 'MUX_KEEPALIVE_TIMEOUT'
  | 'MUX_TRANSPORT_ERROR'
  // ttrpc
  | 'TTRPC_PROTOCOL_ERROR'
  | 'TTRPC_CONNECTION_CLOSED'
  | 'TTRPC_STATUS'
  // guest image (src/image)
  | 'IMAGE_BUILD_FAILED'
  | 'IMAGE_CORRUPT'
  | 'IMAGE_NOT_FOUND'
  | 'TOOL_MISSING'
  | 'INTERNAL';

export class VesselError extends Error {
  readonly code: VesselErrorCode;

  constructor(code: VesselErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VesselError';
    this.code = code;
  }
}

export function isVesselError(err: unknown, code?: VesselErrorCode): err is VesselError {
  return err instanceof VesselError && (code === undefined || err.code === code);
}
