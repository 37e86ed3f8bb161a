// Original file: proto/vessel/vm/v1/vm.proto


export interface ConsoleChunk {
  'data'?: (Buffer | Uint8Array | string);
}

export interface ConsoleChunk__Output {
  'data': (Buffer);
}
