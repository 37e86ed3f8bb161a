// Original file: proto/vessel/vm/v1/vm.proto

import type { InstanceInfo as _vessel_vm_v1_InstanceInfo, InstanceInfo__Output as _vessel_vm_v1_InstanceInfo__Output } from '../../../vessel/vm/v1/InstanceInfo.js';

export interface ListInstancesResponse {
  'instances'?: (_vessel_vm_v1_InstanceInfo)[];
}

export interface ListInstancesResponse__Output {
  'instances': (_vessel_vm_v1_InstanceInfo__Output)[];
}
