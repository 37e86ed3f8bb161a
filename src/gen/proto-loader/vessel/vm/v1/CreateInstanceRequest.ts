// Original file: proto/vessel/vm/v1/vm.proto


export interface CreateInstanceRequest {
  'id'?: (string);
}

export interface CreateInstanceRequest__Output {
  'id': (string);
}
