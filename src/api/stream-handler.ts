// Instance.StartStream: a gRPC bidi call joined to a raw guest stream, with flow control
// in both directions (a paused side stops reading the other), half-close passed on, and
// the call ended when the guest side ends.
import type { Duplex } from 'node:stream';
import { VesselError } from '../errors/index.js';
import type { vmv1 } from '../gen/index.js';
import { failer } from './call-errors.js';
import { onceMessage, onMessage } from './client-messages.js';
import { pumpToCall } from './pump.js';
import type { InstanceRegistry } from './registry.js';

export function streamHandler(registry: InstanceRegistry): vmv1.InstanceHandlers['StartStream'] {
  return (call) => {
    const fail = failer(call);
    let guest: Duplex | undefined;
    call.on('cancelled', () => guest?.destroy());
    call.on('error', () => guest?.destroy());
    onceMessage(call, (first) => {
      call.pause();
      void (async () => {
        if (!first.streamId) throw new VesselError('INVALID_ARGUMENT', 'the first StartStream message must carry instance_id and stream_id');
        const g = await registry.get(first.instanceId).instance.startStream(first.streamId);
        guest = g;
        if (call.cancelled) return g.destroy();
        g.on('error', fail);
        void pumpToCall(g, call, (data): vmv1.StreamResponse => ({ data })).then(() => call.end());
        if (first.data.length) g.write(first.data);
        onMessage(call, (msg) => {
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
