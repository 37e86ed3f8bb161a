// Original file: proto/vessel/vm/v1/vm.proto


export interface GetInstanceRequest {
  'instanceId'?: (string);
}

export interface GetInstanceRequest__Output {
  'instanceId': (string);
}
