// Original file: proto/vessel/vm/v1/vm.proto

import type { State as _vessel_vm_v1_State, State__Output as _vessel_vm_v1_State__Output } from '../../../vessel/vm/v1/State.js';
import type { Error as _vessel_vm_v1_Error, Error__Output as _vessel_vm_v1_Error__Output } from '../../../vessel/vm/v1/Error.js';
import type { Long } from '@grpc/proto-loader';

export interface InstanceEvent {
  'instanceId'?: (string);
  'state'?: (_vessel_vm_v1_State);
  'error'?: (_vessel_vm_v1_Error | null);
  'atUnixNano'?: (number | string | Long);
}

export interface InstanceEvent__Output {
  'instanceId': (string);
  'state': (_vessel_vm_v1_State__Output);
  'error': (_vessel_vm_v1_Error__Output | null);
  'atUnixNano': (string);
}
