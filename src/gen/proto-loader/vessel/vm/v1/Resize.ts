// Original file: proto/vessel/vm/v1/vm.proto


export interface Resize {
  'rows'?: (number);
  'cols'?: (number);
}

export interface Resize__Output {
  'rows': (number);
  'cols': (number);
}
