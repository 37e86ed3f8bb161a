// Original file: proto/vessel/vm/v1/vm.proto


export interface StreamResponse {
  'data'?: (Buffer | Uint8Array | string);
}

export interface StreamResponse__Output {
  'data': (Buffer);
}
