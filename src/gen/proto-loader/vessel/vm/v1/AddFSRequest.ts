// Original file: proto/vessel/vm/v1/vm.proto


export interface AddFSRequest {
  'instanceId'?: (string);
  'tag'?: (string);
  'hostPath'?: (string);
  'readOnly'?: (boolean);
  'mountPoint'?: (string);
}

export interface AddFSRequest__Output {
  'instanceId': (string);
  'tag': (string);
  'hostPath': (string);
  'readOnly': (boolean);
  'mountPoint': (string);
}
