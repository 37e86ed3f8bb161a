// Instance.Watch: the current state, then every change, ending after the instance stops
// (or fails) or the client cancels.
import type { vmv1 } from '../gen/index.js';
import { failer } from './call-errors.js';
import { errorMessage, stateName } from './messages.js';
import type { InstanceRegistry } from './registry.js';

export function watchHandler(registry: InstanceRegistry): vmv1.InstanceHandlers['Watch'] {
  return (call) => {
    const fail = failer(call);
    try {
      const m = registry.get(call.request.instanceId);
      const send = (state: vmv1.State__Output, error: Error | undefined) =>
        call.write({
          instanceId: m.id,
          state,
          error: errorMessage(error),
          atUnixNano: (BigInt(Date.now()) * 1_000_000n).toString(),
        });
      send(stateName(m.instance.state()), m.instance.failure());
      const off = m.instance.onStateChange((c) => send(stateName(c.state), c.error));
      call.on('cancelled', off);
      m.instance.whenStopped().then(
        () => {
          off();
          call.end();
        },
        () => undefined,
      );
    } catch (err) {
      fail(err);
    }
  };
}
