// Original file: proto/vessel/vm/v1/vm.proto


export interface ConsoleRequest {
  'instanceId'?: (string);
  'follow'?: (boolean);
}

export interface ConsoleRequest__Output {
  'instanceId': (string);
  'follow': (boolean);
}
