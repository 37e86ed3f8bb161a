// Original file: proto/vessel/vm/v1/vm.proto


export interface StartRequest {
  'instanceId'?: (string);
  'initArgs'?: (string)[];
}

export interface StartRequest__Output {
  'instanceId': (string);
  'initArgs': (string)[];
}
