// vessel.vm.v1.Manager: create, get, list and delete instances.
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { instanceInfo } from './messages.js';
import type { InstanceRegistry } from './registry.js';
import { unary } from './unary.js';

interface IdRequest {
  instanceId: string;
}

export function managerService(registry: InstanceRegistry): UntypedServiceImplementation {
  return {
    CreateInstance: unary(async (req: { id: string }) => instanceInfo(await registry.create(req.id))),
    GetInstance: unary(async (req: IdRequest) => instanceInfo(registry.get(req.instanceId))),
    ListInstances: unary(async () => ({ instances: registry.list().map(instanceInfo) })),
    DeleteInstance: unary(async (req: IdRequest) => {
      await registry.delete(req.instanceId);
      return {};
    }),
  };
}
