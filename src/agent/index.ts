// Contract: the host side of the guest agent. AgentClient speaks vessel.agent.v1.Agent
// (ttrpc) on a yamux session's first stream and opens raw streams claimed by id with the
// length-prefixed id handshake; replies from the guest are untrusted and bounded. A status
// the agent answers with leaves this folder as a VesselError of its code (src/errors), so
// no caller reads ttrpc errors. execWithStreams is the one exec-with-stdio path; runc.ts
// runs OCI bundles in the guest with runc through it. Imports src/mux, src/ttrpc and
// src/errors only.
export { AgentClient } from './client.js';
export { execWithStreams, newExecId, type ExecStdio, type GuestCommandSpec, type GuestExec, type StdioChoice } from './exec.js';
export {
  containerOomKills,
  containerPids,
  containerState,
  containerStats,
  deleteContainer,
  ensureRuntime,
  execInContainer,
  killContainer,
  pauseContainer,
  resumeContainer,
  runContainer,
  RUNC_PATH,
  RUNC_ROOT,
  TOOLS_BLOCK_ID,
  TOOLS_MOUNT,
  validateContainerId,
  type ContainerExit,
  type ContainerProcess,
  type RunningContainer,
  type ContainerState,
  type ContainerStats,
  type ExecOptions as ContainerExecOptions,
  type RunOptions as ContainerRunOptions,
} from './runc.js';
export { openClaimedStream, readStreamId, encodeStreamId, MAX_STREAM_ID_BYTES } from './stream-claim.js';
export type { AgentInfo, BootEvent, ExecSpec, ExitStatus, InterfaceSpec, MountSpec } from './types.js';
