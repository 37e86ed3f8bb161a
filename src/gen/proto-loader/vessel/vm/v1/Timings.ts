// Original file: proto/vessel/vm/v1/vm.proto

import type { Long } from '@grpc/proto-loader';

export interface Timings {
  'createdAtUnixNano'?: (number | string | Long);
  'startedAtUnixNano'?: (number | string | Long);
  'vmmSpawnedMs'?: (number | string);
  'agentReadyMs'?: (number | string);
  'configuredMs'?: (number | string);
}

export interface Timings__Output {
  'createdAtUnixNano': (string);
  'startedAtUnixNano': (string);
  'vmmSpawnedMs': (number);
  'agentReadyMs': (number);
  'configuredMs': (number);
}
