// Original file: proto/vessel/vm/v1/vm.proto


export interface AddDiskRequest {
  'instanceId'?: (string);
  'blockId'?: (string);
  'hostPath'?: (string);
  'readOnly'?: (boolean);
  'vmdk'?: (boolean);
}

export interface AddDiskRequest__Output {
  'instanceId': (string);
  'blockId': (string);
  'hostPath': (string);
  'readOnly': (boolean);
  'vmdk': (boolean);
}
