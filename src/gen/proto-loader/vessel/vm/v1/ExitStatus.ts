// Original file: proto/vessel/vm/v1/vm.proto

import type { Long } from '@grpc/proto-loader';

export interface ExitStatus {
  'exitCode'?: (number);
  'signal'?: (number);
  'exitedAtUnixNano'?: (number | string | Long);
  'oomKilled'?: (boolean);
}

export interface ExitStatus__Output {
  'exitCode': (number);
  'signal': (number);
  'exitedAtUnixNano': (string);
  'oomKilled': (boolean);
}
