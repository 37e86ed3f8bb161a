// Original file: proto/vessel/vm/v1/vm.proto

import type { ExecStart as _vessel_vm_v1_ExecStart, ExecStart__Output as _vessel_vm_v1_ExecStart__Output } from '../../../vessel/vm/v1/ExecStart.js';
import type { Resize as _vessel_vm_v1_Resize, Resize__Output as _vessel_vm_v1_Resize__Output } from '../../../vessel/vm/v1/Resize.js';

export interface ExecRequest {
  'start'?: (_vessel_vm_v1_ExecStart | null);
  'stdin'?: (Buffer | Uint8Array | string);
  'closeStdin'?: (boolean);
  'resize'?: (_vessel_vm_v1_Resize | null);
  'signal'?: (number);
  'signalGroup'?: (number);
  'msg'?: "start"|"stdin"|"closeStdin"|"resize"|"signal"|"signalGroup";
}

export interface ExecRequest__Output {
  'start'?: (_vessel_vm_v1_ExecStart__Output | null);
  'stdin'?: (Buffer);
  'closeStdin'?: (boolean);
  'resize'?: (_vessel_vm_v1_Resize__Output | null);
  'signal'?: (number);
  'signalGroup'?: (number);
  'msg'?: "start"|"stdin"|"closeStdin"|"resize"|"signal"|"signalGroup";
}
