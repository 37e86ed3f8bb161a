// Original file: proto/vessel/vm/v1/vm.proto

export const State = {
  STATE_UNSPECIFIED: 'STATE_UNSPECIFIED',
  STATE_CREATED: 'STATE_CREATED',
  STATE_STARTING: 'STATE_STARTING',
  STATE_RUNNING: 'STATE_RUNNING',
  STATE_STOPPING: 'STATE_STOPPING',
  STATE_STOPPED: 'STATE_STOPPED',
  STATE_FAILED: 'STATE_FAILED',
} as const;

export type State =
  | 'STATE_UNSPECIFIED'
  | 0
  | 'STATE_CREATED'
  | 1
  | 'STATE_STARTING'
  | 2
  | 'STATE_RUNNING'
  | 3
  | 'STATE_STOPPING'
  | 4
  | 'STATE_STOPPED'
  | 5
  | 'STATE_FAILED'
  | 6

export type State__Output = typeof State[keyof typeof State]
