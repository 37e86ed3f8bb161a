// Original file: proto/vessel/vm/v1/vm.proto


export interface ShutdownRequest {
  'instanceId'?: (string);
}

export interface ShutdownRequest__Output {
  'instanceId': (string);
}
