// vessel.vm.v1.Instance: configuration, Start and Shutdown (unary); the streaming calls
// live in their own files.
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { VesselError } from '../errors/index.js';
import type { NetworkMode } from '../vm/index.js';
import { instanceInfo } from './messages.js';
import type { InstanceRegistry } from './registry.js';
import { unary } from './unary.js';
import { consoleHandler } from './console-handler.js';
import { execHandler } from './exec-handler.js';
import { streamHandler } from './stream-handler.js';
import { watchHandler } from './watch-handler.js';

interface IdRequest {
  instanceId: string;
}

function networkMode(mode: string): NetworkMode {
  if (mode === 'NETWORK_MODE_UNIXSTREAM') return 'unixstream';
  if (mode === 'NETWORK_MODE_UNIXGRAM') return 'unixgram';
  throw new VesselError('INVALID_ARGUMENT', `mode must be NETWORK_MODE_UNIXSTREAM or NETWORK_MODE_UNIXGRAM, got ${mode}`);
}

export function instanceService(registry: InstanceRegistry): UntypedServiceImplementation {
  return {
    SetCPUAndMemory: unary(async (req: IdRequest & { cpu: number; ramMib: number }) => {
      registry.get(req.instanceId).instance.setCPUAndMemory(req.cpu, req.ramMib);
      return {};
    }),
    AddFS: unary(async (req: IdRequest & { tag: string; hostPath: string; readOnly: boolean; mountPoint: string }) => {
      registry.get(req.instanceId).instance.addFS(req.tag, req.hostPath, { readOnly: req.readOnly, ...(req.mountPoint ? { mountPoint: req.mountPoint } : {}) });
      return {};
    }),
    AddDisk: unary(async (req: IdRequest & { blockId: string; hostPath: string; readOnly: boolean; vmdk: boolean }) => {
      registry.get(req.instanceId).instance.addDisk(req.blockId, req.hostPath, { readOnly: req.readOnly, vmdk: req.vmdk });
      return {};
    }),
    AddNIC: unary(async (req: IdRequest & { endpoint: string; mac: string; mode: string; features: number; flags: number }) => {
      const m = registry.get(req.instanceId);
      m.instance.addNIC(req.endpoint, req.mac, networkMode(req.mode), { ...(req.features ? { features: req.features } : {}), flags: req.flags });
      return {};
    }),
    Start: unary(async (req: IdRequest & { initArgs: string[] }) => {
      const m = registry.get(req.instanceId);
      registry.markStarting(m);
      registry.markStarted(m, await m.instance.start({ initArgs: req.initArgs }));
      const info = await m.instance.client().info();
      return { info: instanceInfo(m), guestTimeline: info.bootTimeline.map((e) => ({ name: e.name, atNs: e.atNs.toString() })) };
    }),
    Shutdown: unary(async (req: IdRequest) => {
      await registry.get(req.instanceId).instance.shutdown();
      return {};
    }),
    StartStream: streamHandler(registry),
    Exec: execHandler(registry),
    Console: consoleHandler(registry),
    Watch: watchHandler(registry),
  };
}
