// fork: a running VM saved with leaveRunning, then started again N times from that
// snapshot, each copy in its own state dir with its own hostname and reseeded RNG
// (extras.ts Snapshottable and SnapshotRestorer; any backend offering both).
import { snapshotRestorer, snapshottable, type RestoreOverrides, type SnapshotResult } from './extras.js';
import type { Instance, Manager } from './types.js';

export interface ForkOptions {
  /** Where the snapshot goes (it must not exist; it stays, for more copies later). */
  snapshotDir: string;
  /** One new (existing, empty) state dir per copy. */
  stateDirs: string[];
  /** The i-th copy's overrides (default: its hostname from its state dir's name). */
  overrides?: (index: number) => RestoreOverrides;
  ram?: 'mapped' | 'stream';
}

/**
 * Saves `source` (it runs on) and restores it into each state dir, one after the other.
 * All or nothing: when a restore fails, the copies already started are shut down.
 */
export async function fork(manager: Manager, source: Instance, o: ForkOptions): Promise<{ snapshot: SnapshotResult; copies: Instance[] }> {
  const restorer = snapshotRestorer(manager, 'fork');
  const snapshot = await snapshottable(source, 'fork').snapshot(o.snapshotDir, { leaveRunning: true, ram: o.ram });
  const copies: Instance[] = [];
  try {
    for (const [i, stateDir] of o.stateDirs.entries()) copies.push(await restorer.restore(o.snapshotDir, stateDir, o.overrides?.(i)));
  } catch (err) {
    await Promise.all(copies.map((c) => c.shutdown({ now: true })));
    throw err;
  }
  return { snapshot, copies };
}
