// @chainsafe/libp2p-yamux configured like hashicorp/yamux's DefaultConfig where it can be:
// 256 KiB initial stream window and a 256 KiB maximum (Go's MaxStreamWindowSize defaults to the
// initial window, so no auto-tuning), no keepalive pings (the Go benchmark disables them too).
import { yamux } from '@chainsafe/libp2p-yamux';
import type { YamuxMuxerInit } from '@chainsafe/libp2p-yamux';

export const GO_LIKE_YAMUX_CONFIG: YamuxMuxerInit = {
  enableKeepAlive: false,
  streamOptions: {
    initialStreamWindowSize: 256 * 1024,
    maxStreamWindowSize: 256 * 1024,
  },
};

export const libp2pYamuxFactory = yamux(GO_LIKE_YAMUX_CONFIG)();
