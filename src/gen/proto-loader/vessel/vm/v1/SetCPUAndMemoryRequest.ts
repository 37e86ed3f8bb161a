// Original file: proto/vessel/vm/v1/vm.proto


export interface SetCPUAndMemoryRequest {
  'instanceId'?: (string);
  'cpu'?: (number);
  'ramMib'?: (number);
}

export interface SetCPUAndMemoryRequest__Output {
  'instanceId': (string);
  'cpu': (number);
  'ramMib': (number);
}
