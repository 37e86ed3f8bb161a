// Original file: proto/vessel/vm/v1/vm.proto

import type { ExecStarted as _vessel_vm_v1_ExecStarted, ExecStarted__Output as _vessel_vm_v1_ExecStarted__Output } from '../../../vessel/vm/v1/ExecStarted.js';
import type { ExitStatus as _vessel_vm_v1_ExitStatus, ExitStatus__Output as _vessel_vm_v1_ExitStatus__Output } from '../../../vessel/vm/v1/ExitStatus.js';

export interface ExecResponse {
  'started'?: (_vessel_vm_v1_ExecStarted | null);
  'stdout'?: (Buffer | Uint8Array | string);
  'stderr'?: (Buffer | Uint8Array | string);
  'exit'?: (_vessel_vm_v1_ExitStatus | null);
  'msg'?: "started"|"stdout"|"stderr"|"exit";
}

export interface ExecResponse__Output {
  'started'?: (_vessel_vm_v1_ExecStarted__Output | null);
  'stdout'?: (Buffer);
  'stderr'?: (Buffer);
  'exit'?: (_vessel_vm_v1_ExitStatus__Output | null);
  'msg'?: "started"|"stdout"|"stderr"|"exit";
}
