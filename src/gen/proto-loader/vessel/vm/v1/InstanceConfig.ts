// Original file: proto/vessel/vm/v1/vm.proto

import type { Share as _vessel_vm_v1_Share, Share__Output as _vessel_vm_v1_Share__Output } from '../../../vessel/vm/v1/Share.js';
import type { Disk as _vessel_vm_v1_Disk, Disk__Output as _vessel_vm_v1_Disk__Output } from '../../../vessel/vm/v1/Disk.js';
import type { Nic as _vessel_vm_v1_Nic, Nic__Output as _vessel_vm_v1_Nic__Output } from '../../../vessel/vm/v1/Nic.js';

export interface InstanceConfig {
  'cpu'?: (number);
  'ramMib'?: (number);
  'shares'?: (_vessel_vm_v1_Share)[];
  'disks'?: (_vessel_vm_v1_Disk)[];
  'nics'?: (_vessel_vm_v1_Nic)[];
}

export interface InstanceConfig__Output {
  'cpu': (number);
  'ramMib': (number);
  'shares': (_vessel_vm_v1_Share__Output)[];
  'disks': (_vessel_vm_v1_Disk__Output)[];
  'nics': (_vessel_vm_v1_Nic__Output)[];
}
