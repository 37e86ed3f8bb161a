// Original file: proto/vessel/vm/v1/vm.proto

import type { Long } from '@grpc/proto-loader';

export interface BootEvent {
  'name'?: (string);
  'atNs'?: (number | string | Long);
}

export interface BootEvent__Output {
  'name': (string);
  'atNs': (string);
}
