// vessel.vm.v1.Instance: configuration, Start and Shutdown (unary); the streaming calls
// live in their own files. Host paths (AddFS, AddDisk) pass the daemon's PathPolicy, and
// again at Start.
import { VesselError } from '../errors/index.js';
import type { vmv1 } from '../gen/index.js';
import type { NetworkMode } from '../vm/index.js';
import { instanceInfo } from './messages.js';
import type { PathPolicy } from './path-policy.js';
import type { InstanceRegistry } from './registry.js';
import { unary } from './unary.js';
import { consoleHandler } from './console-handler.js';
import { execHandler } from './exec-handler.js';
import { streamHandler } from './stream-handler.js';
import { watchHandler } from './watch-handler.js';

function networkMode(mode: vmv1.NetworkMode__Output): NetworkMode {
  if (mode === 'NETWORK_MODE_UNIXSTREAM') return 'unixstream';
  if (mode === 'NETWORK_MODE_UNIXGRAM') return 'unixgram';
  throw new VesselError('INVALID_ARGUMENT', `mode must be NETWORK_MODE_UNIXSTREAM or NETWORK_MODE_UNIXGRAM, got ${mode}`);
}

export function instanceService(registry: InstanceRegistry, paths: PathPolicy): vmv1.InstanceHandlers {
  return {
    SetCPUAndMemory: unary(async (req): Promise<vmv1.SetCPUAndMemoryResponse> => {
      registry.get(req.instanceId).instance.setCPUAndMemory(req.cpu, req.ramMib);
      return {};
    }),
    AddFS: unary(async (req): Promise<vmv1.AddFSResponse> => {
      const m = registry.get(req.instanceId);
      const hostPath = await paths.check({ call: 'AddFS', hostPath: req.hostPath });
      m.instance.addFS(req.tag, hostPath, { readOnly: req.readOnly, ...(req.mountPoint ? { mountPoint: req.mountPoint } : {}) });
      return {};
    }),
    AddDisk: unary(async (req): Promise<vmv1.AddDiskResponse> => {
      const m = registry.get(req.instanceId);
      const hostPath = await paths.check({ call: 'AddDisk', hostPath: req.hostPath, vmdk: req.vmdk });
      m.instance.addDisk(req.blockId, hostPath, { readOnly: req.readOnly, vmdk: req.vmdk });
      return {};
    }),
    AddNIC: unary(async (req): Promise<vmv1.AddNICResponse> => {
      const m = registry.get(req.instanceId);
      m.instance.addNIC(req.endpoint, req.mac, networkMode(req.mode), { ...(req.features ? { features: req.features } : {}), flags: req.flags });
      return {};
    }),
    Start: unary(async (req): Promise<vmv1.StartResponse> => {
      const m = registry.get(req.instanceId);
      if (m.instance.state() === 'created') await paths.recheck(m.instance.describe());
      registry.markStarting(m);
      registry.markStarted(m, await m.instance.start({ initArgs: req.initArgs }));
      const info = await m.instance.client().info();
      return { info: instanceInfo(m), guestTimeline: info.bootTimeline.map((e): vmv1.BootEvent => ({ name: e.name, atNs: e.atNs.toString() })) };
    }),
    Shutdown: unary(async (req): Promise<vmv1.ShutdownResponse> => {
      await registry.get(req.instanceId).instance.shutdown();
      return {};
    }),
    StartStream: streamHandler(registry),
    Exec: execHandler(registry),
    Console: consoleHandler(registry),
    Watch: watchHandler(registry),
  };
}
