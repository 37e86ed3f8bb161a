// VesselError and its codes (the contract is in index.ts).

export type VesselErrorCode =
  // the generic vocabulary (containerd errdefs / google.rpc.Code)
  | 'CANCELLED'
  | 'UNKNOWN'
  | 'INVALID_ARGUMENT'
  | 'DEADLINE_EXCEEDED'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'PERMISSION_DENIED'
  | 'RESOURCE_EXHAUSTED'
  | 'FAILED_PRECONDITION'
  | 'ABORTED'
  | 'OUT_OF_RANGE'
  | 'UNIMPLEMENTED'
  | 'INTERNAL'
  | 'UNAVAILABLE'
  | 'DATA_LOSS'
  | 'UNAUTHENTICATED'
  // configuration and lifecycle (vm layer)
  | 'CONFIG_AFTER_START'
  | 'NOT_STARTED'
  | 'ALREADY_STARTED'
  | 'NOT_REUSABLE'
  | 'START_FAILED'
  | 'VM_EXITED'
  | 'GUEST_PANICKED'
  | 'GUEST_UNRESPONSIVE'
  // a device's host backend died while the VM runs on (a share's virtiofsd, a NIC's passt)
  | 'DEVICE_FAILED'
  | 'STATE_DIR_IN_USE'
  // snapshots (src/vm/qemu/snapshot*.ts): made from another image, QEMU or VM shape; a file that fails its checksum
  | 'SNAPSHOT_MISMATCH'
  | 'SNAPSHOT_CORRUPT'
  // guest commands: the agent could not start the program (a shell's 127 / 126)
  | 'COMMAND_NOT_FOUND'
  | 'COMMAND_NOT_EXECUTABLE'
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
  // hybrid vsock (src/transport): the backend's reply to CONNECT was not `OK <port>`
  | 'VSOCK_PROTOCOL_ERROR'
  // guest image (src/image)
  | 'IMAGE_BUILD_FAILED'
  | 'IMAGE_CORRUPT'
  | 'IMAGE_NOT_FOUND'
  | 'TOOL_MISSING';

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
