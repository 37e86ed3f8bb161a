// Original file: proto/vessel/vm/v1/vm.proto

import type { InstanceInfo as _vessel_vm_v1_InstanceInfo, InstanceInfo__Output as _vessel_vm_v1_InstanceInfo__Output } from '../../../vessel/vm/v1/InstanceInfo.js';
import type { BootEvent as _vessel_vm_v1_BootEvent, BootEvent__Output as _vessel_vm_v1_BootEvent__Output } from '../../../vessel/vm/v1/BootEvent.js';

export interface StartResponse {
  'info'?: (_vessel_vm_v1_InstanceInfo | null);
  'guestTimeline'?: (_vessel_vm_v1_BootEvent)[];
}

export interface StartResponse__Output {
  'info': (_vessel_vm_v1_InstanceInfo__Output | null);
  'guestTimeline': (_vessel_vm_v1_BootEvent__Output)[];
}
