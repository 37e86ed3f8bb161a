// Instance.StartStream: a gRPC bidi call joined to a raw guest stream, with flow control
// in both directions (a paused side stops reading the other), half-close passed on, and
// the call ended when the guest side ends.
import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { Duplex } from 'node:stream';
import { VesselError } from '../errors/index.js';
import { failer } from './call-errors.js';
import { pumpToCall } from './pump.js';
import type { InstanceRegistry } from './registry.js';

interface StreamRequest {
  instanceId: string;
  streamId: string;
  data: Buffer;
}
interface StreamResponse {
  data: Buffer;
}

export function streamHandler(registry: InstanceRegistry) {
  return (call: ServerDuplexStream<StreamRequest, StreamResponse>): void => {
    const fail = failer(call);
    let guest: Duplex | undefined;
    call.on('cancelled', () => guest?.destroy());
    call.on('error', () => guest?.destroy());
    call.once('data', (first: StreamRequest) => {
      call.pause();
      void (async () => {
        if (!first.streamId) throw new VesselError('INVALID_ARGUMENT', 'the first StartStream message must carry instance_id and stream_id');
        const g = await registry.get(first.instanceId).instance.startStream(first.streamId);
        guest = g;
        if (call.cancelled) return g.destroy();
        g.on('error', fail);
        void pumpToCall(g, call, (data) => ({ data })).then(() => call.end());
        if (first.data.length) g.write(first.data);
        call.on('data', (msg: StreamRequest) => {
          if (msg.data.length && !g.write(msg.data)) {
            call.pause();
            g.once('drain', () => call.resume());
          }
        });
        call.on('end', () => g.end());
        call.resume();
      })().catch(fail);
    });
  };
}
