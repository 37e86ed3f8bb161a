// InstanceRegistry: the daemon's instances by id. The daemon owns each state dir
// (`<root>/<id>`, 0700, with the registry's own `daemon.json`: created and started times);
// DeleteInstance shuts the instance down and removes it. Ids are client-chosen or
// generated; the number of instances is bounded. restore() takes over what a previous
// daemon on the same root left: with a live-restore backend (Attachable) every VM still
// running is re-attached under its id; every other dir is cleared (what is recorded there
// still running is ended first). Dirs a live process uses are left alone.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { VesselError, isVesselError } from '../errors/index.js';
import { readJson, writePrivateJson } from '../host/index.js';
import { attachable, liveForeignOwner, reapOrphans, type Instance, type Manager, type StartResult } from '../vm/index.js';

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

const META_FILE = 'daemon.json';

/** What restore() did with each dir a previous daemon left. */
export interface RestoreReport {
  /** Re-attached under their ids: running, or failed (the guest did not answer; see the instance's error). */
  attached: string[];
  /** Removed, with why (not running when that daemon died, its VMM died since, no live-restore backend, ...). */
  removed: Array<{ id: string; why: string }>;
}

interface Meta {
  createdAtNs: string;
  startedAtNs?: string;
  startResult?: StartResult;
}

function readMeta(dir: string): Partial<Meta> {
  const m = readJson(path.join(dir, META_FILE));
  return typeof m === 'object' && m !== null ? (m as Partial<Meta>) : {};
}

function asNs(v: unknown): bigint | undefined {
  return typeof v === 'string' && /^\d{1,20}$/.test(v) ? BigInt(v) : undefined;
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
   * Takes over what a previous daemon left in the instances dir (it was killed, crashed or
   * is being upgraded): its VMs still running are re-attached when the backend can
   * (Attachable, live restore); every other dir is cleared, anything recorded there still
   * running ended first. Dirs a live process uses are left alone.
   */
  async restore(): Promise<RestoreReport> {
    const report: RestoreReport = { attached: [], removed: [] };
    const manager = attachable(this.manager);
    const names = (await fs.promises.readdir(this.rootDir)).filter((name) => !this.instances.has(name) && !liveForeignOwner(path.join(this.rootDir, name)));
    await Promise.all(
      names.map(async (id) => {
        const dir = path.join(this.rootDir, id);
        let why = 'this daemon cannot re-attach VMs (live restore is off)';
        if (manager && INSTANCE_ID.test(id)) {
          try {
            const instance = await manager.attach(dir);
            const meta = readMeta(dir);
            this.instances.set(id, {
              id,
              instance,
              createdAtNs: asNs(meta.createdAtNs) ?? nowNs(),
              ...(asNs(meta.startedAtNs) !== undefined ? { startedAtNs: asNs(meta.startedAtNs) } : {}),
              ...(meta.startResult ? { startResult: meta.startResult } : {}),
            });
            report.attached.push(id);
            return;
          } catch (err) {
            if (isVesselError(err, 'STATE_DIR_IN_USE')) return; // (a live process took it meanwhile)
            why = (err as Error).message;
          }
        }
        await reapOrphans(dir);
        await fs.promises.rm(dir, { recursive: true, force: true });
        report.removed.push({ id, why });
      }),
    );
    return report;
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
      this.saveMeta(m);
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
    this.saveMeta(m);
  }

  /** Keeps what the registry knows of an instance beside its VM (restore() reads it back). */
  private saveMeta(m: ManagedInstance): void {
    const meta: Meta = {
      createdAtNs: m.createdAtNs.toString(),
      ...(m.startedAtNs !== undefined ? { startedAtNs: m.startedAtNs.toString() } : {}),
      ...(m.startResult ? { startResult: m.startResult } : {}),
    };
    try {
      writePrivateJson(path.join(m.instance.stateDir, META_FILE), meta);
    } catch {
      // the dir is gone (deleted meanwhile): nothing to keep
    }
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
