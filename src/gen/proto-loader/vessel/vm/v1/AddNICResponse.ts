// Original file: proto/vessel/vm/v1/vm.proto


export interface AddNICResponse {
}

export interface AddNICResponse__Output {
}
