// Original file: proto/vessel/vm/v1/vm.proto


export interface AddDiskResponse {
}

export interface AddDiskResponse__Output {
}
