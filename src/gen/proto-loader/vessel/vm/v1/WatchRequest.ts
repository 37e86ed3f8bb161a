// Original file: proto/vessel/vm/v1/vm.proto


export interface WatchRequest {
  'instanceId'?: (string);
}

export interface WatchRequest__Output {
  'instanceId': (string);
}
