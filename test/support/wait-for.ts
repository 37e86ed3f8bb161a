// Waits for a condition that no event announces (e.g. a buffer reaching a size), checking
// it every few milliseconds; fails after `timeoutMs` with `what` in the message.
import { setTimeout as sleep } from 'node:timers/promises';

export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000, everyMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
