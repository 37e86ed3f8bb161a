// InstanceRegistry: the daemon's instances by id. The daemon owns each state dir
// (`<root>/<id>`, 0700); DeleteInstance shuts the instance down and removes it. Ids are
// client-chosen or generated; the number of instances is bounded.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { VesselError } from '../errors/index.js';
import { liveForeignOwner, reapOrphans, type Instance, type Manager, type StartResult } from '../vm/index.js';

export const INSTANCE_ID = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

export interface ManagedInstance {
  id: string;
  instance: Instance;
  createdAtNs: bigint;
  startedAtNs?: bigint;
  startResult?: StartResult;
}

function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

export class InstanceRegistry {
  private readonly instances = new Map<string, ManagedInstance>();
  private readonly reserved = new Set<string>();

  constructor(
    private readonly manager: Manager,
    readonly rootDir: string,
    private readonly maxInstances = 64,
  ) {
    fs.mkdirSync(rootDir, { recursive: true, mode: 0o700 });
  }

  /**
   * Clears what a previous daemon left in the instances dir (it crashed: its VMs died with
   * it, and anything recorded that escaped is ended). Dirs a live process uses are kept.
   */
  async clearLeftovers(): Promise<string[]> {
    const removed: string[] = [];
    for (const name of await fs.promises.readdir(this.rootDir)) {
      const dir = path.join(this.rootDir, name);
      if (this.instances.has(name) || liveForeignOwner(dir)) continue;
      await reapOrphans(dir);
      await fs.promises.rm(dir, { recursive: true, force: true });
      removed.push(name);
    }
    return removed;
  }

  async create(requestedId: string): Promise<ManagedInstance> {
    const id = requestedId || crypto.randomBytes(6).toString('hex');
    if (!INSTANCE_ID.test(id)) throw new VesselError('INVALID_ARGUMENT', `instance id must match ${INSTANCE_ID.source}, got ${JSON.stringify(id)}`);
    if (this.instances.has(id) || this.reserved.has(id)) throw new VesselError('ALREADY_EXISTS', `instance ${id} already exists`);
    if (this.instances.size + this.reserved.size >= this.maxInstances)
      throw new VesselError('RESOURCE_EXHAUSTED', `this daemon holds at most ${this.maxInstances} instances; delete some first`);
    this.reserved.add(id);
    try {
      const dir = path.join(this.rootDir, id);
      try {
        fs.mkdirSync(dir, { mode: 0o700 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST')
          throw new VesselError('ALREADY_EXISTS', `state dir ${dir} already exists (left by another vessel process that is still running?)`);
        throw err;
      }
      const instance = await this.manager.newInstance(dir);
      const m: ManagedInstance = { id, instance, createdAtNs: nowNs() };
      this.instances.set(id, m);
      return m;
    } finally {
      this.reserved.delete(id);
    }
  }

  get(id: string): ManagedInstance {
    const m = this.instances.get(id);
    if (!m) throw new VesselError('NOT_FOUND', id ? `no instance ${JSON.stringify(id)}` : 'instance_id is required');
    return m;
  }

  list(): ManagedInstance[] {
    return [...this.instances.values()];
  }

  markStarted(m: ManagedInstance, result: StartResult): void {
    m.startResult = result;
  }

  markStarting(m: ManagedInstance): void {
    if (m.instance.state() === 'created') m.startedAtNs ??= nowNs();
  }

  async delete(id: string): Promise<void> {
    const m = this.get(id);
    this.instances.delete(id);
    await m.instance.shutdown();
    await fs.promises.rm(m.instance.stateDir, { recursive: true, force: true });
  }

  /** Shuts every instance down and removes its state dir (instances do not outlive the daemon). */
  async shutdownAll(): Promise<void> {
    await Promise.all(
      this.list().map(async (m) => {
        await m.instance.shutdown();
        this.instances.delete(m.id);
        await fs.promises.rm(m.instance.stateDir, { recursive: true, force: true });
      }),
    );
  }
}
