// Original file: proto/vessel/vm/v1/vm.proto

import type { Error as _vessel_vm_v1_Error, Error__Output as _vessel_vm_v1_Error__Output } from '../../../vessel/vm/v1/Error.js';
import type { Long } from '@grpc/proto-loader';

export interface DeviceFailure {
  'kind'?: (string);
  'id'?: (string);
  'error'?: (_vessel_vm_v1_Error | null);
  'atUnixNano'?: (number | string | Long);
  'fenced'?: (string)[];
}

export interface DeviceFailure__Output {
  'kind': (string);
  'id': (string);
  'error': (_vessel_vm_v1_Error__Output | null);
  'atUnixNano': (string);
  'fenced': (string)[];
}
