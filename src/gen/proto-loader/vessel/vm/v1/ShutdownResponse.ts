// Original file: proto/vessel/vm/v1/vm.proto


export interface ShutdownResponse {
}

export interface ShutdownResponse__Output {
}
