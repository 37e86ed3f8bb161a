// Original file: proto/vessel/vm/v1/vm.proto


export interface DeleteInstanceResponse {
}

export interface DeleteInstanceResponse__Output {
}
