// Original file: proto/vessel/vm/v1/vm.proto


export interface Disk {
  'blockId'?: (string);
  'hostPath'?: (string);
  'readOnly'?: (boolean);
  'vmdk'?: (boolean);
}

export interface Disk__Output {
  'blockId': (string);
  'hostPath': (string);
  'readOnly': (boolean);
  'vmdk': (boolean);
}
