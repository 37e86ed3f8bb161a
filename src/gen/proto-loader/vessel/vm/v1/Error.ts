// Original file: proto/vessel/vm/v1/vm.proto


export interface Error {
  'code'?: (string);
  'message'?: (string);
}

export interface Error__Output {
  'code': (string);
  'message': (string);
}
