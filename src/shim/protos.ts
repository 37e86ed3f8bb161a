// The containerd protos the shim serves and speaks (proto/containerd/**), loaded once.
// Message shapes: src/gen's taskv2, taskEvents, eventsv1, cgroupsv1 (the protobufjs convention).
import type protobuf from 'protobufjs';
import type { Any, Timestamp } from '../gen/index.js';
import { encodeMessage, loadProtos, type DeepPartial } from '../ttrpc/index.js';

export interface ShimProtos {
  root: protobuf.Root;
  /** containerd.task.v2.Task */
  task: protobuf.Service;
  /** containerd.services.events.ttrpc.v1.Events */
  events: protobuf.Service;
  type(name: string): protobuf.Type;
}

let loaded: ShimProtos | undefined;

export function shimProtos(): ShimProtos {
  if (!loaded) {
    const root = loadProtos([
      'containerd/runtime/v2/task/shim.proto',
      'containerd/events/task.proto',
      'containerd/services/events/ttrpc/v1/events.proto',
      'containerd/cgroups/stats/v1/metrics.proto',
      'containerd/runtimeoptions/v1/api.proto',
    ]);
    loaded = {
      root,
      task: root.lookupService('containerd.task.v2.Task'),
      events: root.lookupService('containerd.services.events.ttrpc.v1.Events'),
      type: (name) => root.lookupType(name),
    };
  }
  return loaded;
}

/** Milliseconds since the epoch → google.protobuf.Timestamp. */
export function timestamp(ms: number): Timestamp {
  const seconds = Math.floor(ms / 1000);
  return { seconds: BigInt(seconds), nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

/** Nanoseconds since the epoch (the agent's exited_at) → Timestamp. */
export function timestampFromNanos(ns: bigint): Timestamp {
  return { seconds: ns / 1_000_000_000n, nanos: Number(ns % 1_000_000_000n) };
}

/**
 * google.protobuf.Any as it is sent. protobufjs's bundled Any keeps the proto's field name
 * `type_url` (a `typeUrl` key would be dropped silently, leaving an Any containerd cannot
 * decode); the generated Any says so too (scripts/gen-proto-types.sh).
 */
export type AnyMessage = Pick<Any, 'type_url'> & { value: Uint8Array };

/**
 * Any whose type url is `typeUrl` (containerd's typeurl names, e.g. `containerd.events.TaskExit`)
 * holding `value`, a `typeName` message; T is that message's generated type.
 */
export function packAny<T>(typeUrl: string, typeName: string, value: DeepPartial<T>): AnyMessage {
  return { type_url: typeUrl, value: encodeMessage(shimProtos().type(typeName), value) };
}
