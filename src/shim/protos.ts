// The containerd protos the shim serves and speaks (proto/containerd/**), loaded once.
import type protobuf from 'protobufjs';
import { encodeMessage, loadProtos } from '../ttrpc/index.js';

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

/** google.protobuf.Timestamp as protobufjs takes it. */
export function timestamp(ms: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

/** Nanoseconds since the epoch (the agent's exited_at) → Timestamp. */
export function timestampFromNanos(ns: bigint): { seconds: number; nanos: number } {
  return { seconds: Number(ns / 1_000_000_000n), nanos: Number(ns % 1_000_000_000n) };
}

/**
 * google.protobuf.Any as protobufjs takes it. Its bundled Any keeps the proto's field name
 * `type_url` (a `typeUrl` key would be dropped silently, leaving an Any containerd cannot
 * decode).
 */
export interface AnyMessage { type_url: string; value: Uint8Array }

/** Any whose type url is `typeUrl` (containerd's typeurl names, e.g. `containerd.events.TaskExit`). */
export function packAny(typeUrl: string, typeName: string, value: unknown): AnyMessage {
  return { type_url: typeUrl, value: encodeMessage(shimProtos().type(typeName), value) };
}
