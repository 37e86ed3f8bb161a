// Original file: proto/vessel/vm/v1/vm.proto


export interface ExecStarted {
  'execId'?: (string);
  'pid'?: (number);
}

export interface ExecStarted__Output {
  'execId': (string);
  'pid': (number);
}
