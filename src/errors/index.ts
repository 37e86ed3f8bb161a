// Contract: every error vessel raises on purpose is a VesselError with a stable `code`.
// Codes are part of the API: callers (and the gRPC / ttrpc edges, which map them to
// status codes with the one table in ./status.ts) switch on `code`, never on message text.
// A status received from a peer (the guest agent) becomes a VesselError at the client that
// received it (errorFromStatus), so no layer above reads protocol errors.

export { VesselError, isVesselError, type VesselErrorCode } from './error.js';
export { StatusCode, STATUS_BY_CODE, VESSEL_ERROR_CODES, statusCodeOf, codeForStatus, errorFromStatus } from './status.js';
