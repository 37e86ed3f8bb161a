// What every interop client must observe (test/interop-grpc/python/client.py and
// interop/go/main.go report; these tables judge). Codes are the canonical gRPC names; each
// message must name what is wrong (the value, the id, or the state), per vm.proto's contract.

export const UNKNOWN_INSTANCE = 'no-such-instance';

export const SERVICE_METHODS: Record<string, string[]> = {
  'vessel.vm.v1.Manager': ['CreateInstance', 'GetInstance', 'ListInstances', 'DeleteInstance'],
  'vessel.vm.v1.Instance': ['SetCPUAndMemory', 'AddFS', 'AddDisk', 'AddNIC', 'Start', 'Shutdown', 'StartStream', 'Exec', 'Console', 'Watch'],
};

export interface SuiteParams {
  instanceId: string;
  share: string;
  tag: string;
  /** The stream id the client uses for the duplicate-id case. */
  dupStreamId: string;
}

export interface ErrorExpectation {
  code: string;
  /** Each must match the message. */
  says: (p: SuiteParams) => (RegExp | string)[];
}

export const ERROR_CASES: Record<string, ErrorExpectation> = {
  // Manager
  createDuplicateId: { code: 'ALREADY_EXISTS', says: (p) => [p.instanceId, /already exists/] },
  createBadId: { code: 'INVALID_ARGUMENT', says: () => ['Bad/Id', /instance id must match/] },
  getUnknown: { code: 'NOT_FOUND', says: () => [UNKNOWN_INSTANCE] },
  addFsUnknownInstance: { code: 'NOT_FOUND', says: () => [UNKNOWN_INSTANCE] },
  execUnknownInstance: { code: 'NOT_FOUND', says: () => [UNKNOWN_INSTANCE] },
  // configuration values
  cpuZero: { code: 'INVALID_ARGUMENT', says: () => [/cpu/i, /got 0/] },
  badMac: { code: 'INVALID_ARGUMENT', says: () => [/MAC/i, 'not-a-mac'] },
  badTag: { code: 'INVALID_ARGUMENT', says: () => [/tag/, 'bad tag/x'] },
  missingHostPath: { code: 'INVALID_ARGUMENT', says: (p) => [`${p.share}/does-not-exist`, /does not exist|no such/i] },
  duplicateTag: { code: 'ALREADY_EXISTS', says: (p) => [`"${p.tag}"`, /already used/] },
  // lifecycle
  execBeforeStart: { code: 'FAILED_PRECONDITION', says: () => [/not been started/] },
  streamBeforeStart: { code: 'FAILED_PRECONDITION', says: () => [/not been started/] },
  addFsAfterStart: { code: 'FAILED_PRECONDITION', says: () => [/only possible before start/] },
  startTwice: { code: 'FAILED_PRECONDITION', says: () => [/already running/] },
  duplicateStreamId: { code: 'ALREADY_EXISTS', says: (p) => [p.dupStreamId, /duplicate stream id/] },
  execAfterShutdown: { code: 'UNAVAILABLE', says: () => [/stopped/] },
  getAfterDelete: { code: 'NOT_FOUND', says: (p) => [p.instanceId] },
};
