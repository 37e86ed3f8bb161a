// Original file: proto/vessel/vm/v1/vm.proto

import type { NetworkMode as _vessel_vm_v1_NetworkMode, NetworkMode__Output as _vessel_vm_v1_NetworkMode__Output } from '../../../vessel/vm/v1/NetworkMode.js';

export interface AddNICRequest {
  'instanceId'?: (string);
  'endpoint'?: (string);
  'mac'?: (string);
  'mode'?: (_vessel_vm_v1_NetworkMode);
  'features'?: (number);
  'flags'?: (number);
}

export interface AddNICRequest__Output {
  'instanceId': (string);
  'endpoint': (string);
  'mac': (string);
  'mode': (_vessel_vm_v1_NetworkMode__Output);
  'features': (number);
  'flags': (number);
}
