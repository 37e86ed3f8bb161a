// Original file: proto/vessel/vm/v1/vm.proto


export interface AddFSResponse {
}

export interface AddFSResponse__Output {
}
