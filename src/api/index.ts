// Contract: `vessel serve`'s gRPC API (proto/vessel/vm/v1/vm.proto): the Manager/Instance
// interface for clients in any language. VesselDaemon owns the instances it creates (their
// state dirs under $VESSEL_HOME/daemon/instances) on the Manager its entry point hands it
// (it names no backend, and uses only Instance); errors leave as gRPC statuses in one
// place (status.ts, with src/errors' table; the vessel code also travels as the
// `vessel-error-code` trailer); it never imports src/ttrpc or src/mux;
// streaming calls (StartStream, Exec) are flow-controlled end to end, so a client that
// stops reading stalls the guest's writer instead of growing the daemon's memory; a client
// that disappears mid-Exec gets its guest process group killed. Reflection and health are on.
// Who gets in: the unix socket's mode (0600, or 0660 for a group), mutual TLS on TCP; the
// host paths a client may have VMs use follow a PathPolicy (path-policy.ts).
export { VesselDaemon, SERVICES, type DaemonOptions, type TlsOptions } from './server.js';
export { PathPolicy, type HostPathRequest } from './path-policy.js';
export { vmPackageDefinition, protoDirectory, VM_PROTO, LOADER_OPTIONS } from './proto.js';
export { grpcStatusOf, toServiceError } from './status.js';
