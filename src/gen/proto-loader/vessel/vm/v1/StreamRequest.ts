// Original file: proto/vessel/vm/v1/vm.proto


export interface StreamRequest {
  'instanceId'?: (string);
  'streamId'?: (string);
  'data'?: (Buffer | Uint8Array | string);
}

export interface StreamRequest__Output {
  'instanceId': (string);
  'streamId': (string);
  'data': (Buffer);
}
