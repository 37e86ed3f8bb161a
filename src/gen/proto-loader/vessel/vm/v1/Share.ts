// Original file: proto/vessel/vm/v1/vm.proto


export interface Share {
  'tag'?: (string);
  'hostPath'?: (string);
  'readOnly'?: (boolean);
  'mountPoint'?: (string);
}

export interface Share__Output {
  'tag': (string);
  'hostPath': (string);
  'readOnly': (boolean);
  'mountPoint': (string);
}
