// Original file: proto/vessel/vm/v1/vm.proto


export interface DeleteInstanceRequest {
  'instanceId'?: (string);
}

export interface DeleteInstanceRequest__Output {
  'instanceId': (string);
}
