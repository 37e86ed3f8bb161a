// Original file: proto/vessel/vm/v1/vm.proto

import type { State as _vessel_vm_v1_State, State__Output as _vessel_vm_v1_State__Output } from '../../../vessel/vm/v1/State.js';
import type { InstanceConfig as _vessel_vm_v1_InstanceConfig, InstanceConfig__Output as _vessel_vm_v1_InstanceConfig__Output } from '../../../vessel/vm/v1/InstanceConfig.js';
import type { Timings as _vessel_vm_v1_Timings, Timings__Output as _vessel_vm_v1_Timings__Output } from '../../../vessel/vm/v1/Timings.js';
import type { Error as _vessel_vm_v1_Error, Error__Output as _vessel_vm_v1_Error__Output } from '../../../vessel/vm/v1/Error.js';
import type { DeviceFailure as _vessel_vm_v1_DeviceFailure, DeviceFailure__Output as _vessel_vm_v1_DeviceFailure__Output } from '../../../vessel/vm/v1/DeviceFailure.js';

export interface InstanceInfo {
  'id'?: (string);
  'state'?: (_vessel_vm_v1_State);
  'config'?: (_vessel_vm_v1_InstanceConfig | null);
  'accelerator'?: (string);
  'timings'?: (_vessel_vm_v1_Timings | null);
  'error'?: (_vessel_vm_v1_Error | null);
  'deviceFailures'?: (_vessel_vm_v1_DeviceFailure)[];
}

export interface InstanceInfo__Output {
  'id': (string);
  'state': (_vessel_vm_v1_State__Output);
  'config': (_vessel_vm_v1_InstanceConfig__Output | null);
  'accelerator': (string);
  'timings': (_vessel_vm_v1_Timings__Output | null);
  'error': (_vessel_vm_v1_Error__Output | null);
  'deviceFailures': (_vessel_vm_v1_DeviceFailure__Output)[];
}
