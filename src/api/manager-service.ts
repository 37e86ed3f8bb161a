// vessel.vm.v1.Manager: create, get, list and delete instances.
import type { vmv1 } from '../gen/index.js';
import { instanceInfo } from './messages.js';
import type { InstanceRegistry } from './registry.js';
import { unary } from './unary.js';

export function managerService(registry: InstanceRegistry): vmv1.ManagerHandlers {
  return {
    CreateInstance: unary(async (req): Promise<vmv1.InstanceInfo> => instanceInfo(await registry.create(req.id))),
    GetInstance: unary(async (req): Promise<vmv1.InstanceInfo> => instanceInfo(registry.get(req.instanceId))),
    ListInstances: unary(async (): Promise<vmv1.ListInstancesResponse> => ({ instances: registry.list().map(instanceInfo) })),
    DeleteInstance: unary(async (req): Promise<vmv1.DeleteInstanceResponse> => {
      await registry.delete(req.instanceId);
      return {};
    }),
  };
}
