// Original file: proto/vessel/vm/v1/vm.proto


export interface SetCPUAndMemoryResponse {
}

export interface SetCPUAndMemoryResponse__Output {
}
