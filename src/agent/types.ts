// The vessel.agent.v1 message shapes the agent client speaks, from the types generated from
// proto/vessel/agent/v1/agent.proto (src/gen): replies as the ttrpc layer decodes them
// (lowerCamelCase, 64-bit integers as bigint); requests may leave out what has a default.
import type { agentv1 } from '../gen/index.js';
import type { DeepPartial } from '../ttrpc/index.js';

export type BootEvent = agentv1.BootEvent;
export type AgentInfo = agentv1.InfoResponse;
export type ExitStatus = agentv1.WaitResponse;

/** An Exec request: the exec id and args are required, the rest defaults. */
export type ExecSpec = DeepPartial<agentv1.ExecRequest> & Pick<agentv1.ExecRequest, 'execId' | 'args'>;
export type MountSpec = DeepPartial<agentv1.MountRequest> & Pick<agentv1.MountRequest, 'target'>;
export type InterfaceSpec = DeepPartial<agentv1.ConfigureInterfaceRequest> & Pick<agentv1.ConfigureInterfaceRequest, 'mac' | 'addresses'>;
