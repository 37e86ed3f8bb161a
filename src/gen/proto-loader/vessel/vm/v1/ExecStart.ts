// Original file: proto/vessel/vm/v1/vm.proto


export interface ExecStart {
  'instanceId'?: (string);
  'args'?: (string)[];
  'env'?: (string)[];
  'cwd'?: (string);
  'tty'?: (boolean);
  'rows'?: (number);
  'cols'?: (number);
  'uid'?: (number);
  'gid'?: (number);
  'stdinStream'?: (string);
  'stdoutStream'?: (string);
  'stderrStream'?: (string);
  'stdin'?: (boolean);
}

export interface ExecStart__Output {
  'instanceId': (string);
  'args': (string)[];
  'env': (string)[];
  'cwd': (string);
  'tty': (boolean);
  'rows': (number);
  'cols': (number);
  'uid': (number);
  'gid': (number);
  'stdinStream': (string);
  'stdoutStream': (string);
  'stderrStream': (string);
  'stdin': (boolean);
}
