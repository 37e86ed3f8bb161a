// Original file: proto/vessel/vm/v1/vm.proto


export interface ListInstancesRequest {
}

export interface ListInstancesRequest__Output {
}
