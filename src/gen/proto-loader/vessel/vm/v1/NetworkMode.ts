// Original file: proto/vessel/vm/v1/vm.proto

export const NetworkMode = {
  NETWORK_MODE_UNSPECIFIED: 'NETWORK_MODE_UNSPECIFIED',
  NETWORK_MODE_UNIXSTREAM: 'NETWORK_MODE_UNIXSTREAM',
  NETWORK_MODE_UNIXGRAM: 'NETWORK_MODE_UNIXGRAM',
} as const;

export type NetworkMode =
  | 'NETWORK_MODE_UNSPECIFIED'
  | 0
  | 'NETWORK_MODE_UNIXSTREAM'
  | 1
  | 'NETWORK_MODE_UNIXGRAM'
  | 2

export type NetworkMode__Output = typeof NetworkMode[keyof typeof NetworkMode]
