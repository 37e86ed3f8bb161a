// Original file: proto/vessel/vm/v1/vm.proto

import type { NetworkMode as _vessel_vm_v1_NetworkMode, NetworkMode__Output as _vessel_vm_v1_NetworkMode__Output } from '../../../vessel/vm/v1/NetworkMode.js';

export interface Nic {
  'endpoint'?: (string);
  'mac'?: (string);
  'mode'?: (_vessel_vm_v1_NetworkMode);
  'features'?: (number);
  'flags'?: (number);
}

export interface Nic__Output {
  'endpoint': (string);
  'mac': (string);
  'mode': (_vessel_vm_v1_NetworkMode__Output);
  'features': (number);
  'flags': (number);
}
