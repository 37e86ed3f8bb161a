// Every wait of bench/soak has an end: `bounded` settles with the promise, or rejects when
// `ms` have passed (naming what it waited for) or when the bench is interrupted (with the
// signal's Interrupted, so the bench cleans up and exits 128+N). Cleanup waits are bounded
// but not interruptible: settledWithin, shutdownInstance.
import { setMaxListeners } from 'node:events';
import { interruption } from './ctr-bench.js';

setMaxListeners(256, interruption); // one listener per wait under way (16 VMs × a few)

export async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    onAbort = () => reject(interruption.reason as Error);
    if (interruption.aborted) onAbort();
    else interruption.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([p, stop]);
  } finally {
    clearTimeout(timer);
    interruption.removeEventListener('abort', onAbort!);
  }
}

/** For cleanup (not interruptible): whether `p` settled within `ms` (its rejection counts as settled). */
export async function settledWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      p.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Shuts an instance down gracefully within `ms`, else at once. */
export async function shutdownInstance(inst: { shutdown(opts?: { now?: boolean }): Promise<void> }, ms = 30_000): Promise<void> {
  if (!(await settledWithin(inst.shutdown(), ms))) await inst.shutdown({ now: true });
}
