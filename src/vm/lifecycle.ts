// The lifecycle state machine every Instance follows (architecture.md, "Lifecycle contract"):
// created → starting → running → stopping → stopped, with failed reachable from starting
// (start failed, resources released) and running (the VMM died). Guards throw the typed
// errors the contract names; transitions are announced on 'state'.
import { EventEmitter } from 'node:events';
import { VesselError } from '../errors/index.js';
import type { InstanceState } from './types.js';

export interface StateChange {
  state: InstanceState;
  previous: InstanceState;
  error?: Error;
  at: Date;
}

export class Lifecycle extends EventEmitter<{ state: [StateChange] }> {
  private current: InstanceState = 'created';
  private error: Error | undefined;
  private readonly settled: Promise<void>;
  private settle!: () => void;

  constructor() {
    super();
    this.settled = new Promise((resolve) => {
      this.settle = resolve;
    });
  }

  get state(): InstanceState {
    return this.current;
  }

  get failure(): Error | undefined {
    return this.error;
  }

  /** Resolves once the instance is stopped or failed. */
  whenSettled(): Promise<void> {
    return this.settled;
  }

  assertConfigurable(what: string): void {
    if (this.current !== 'created') {
      throw new VesselError('CONFIG_AFTER_START', `${what}: the instance is ${this.current}; configuration is only possible before start()`);
    }
  }

  beginStart(): void {
    if (this.current === 'created') return this.to('starting');
    if (this.current === 'starting' || this.current === 'running') throw new VesselError('ALREADY_STARTED', `start(): the instance is already ${this.current}`);
    throw new VesselError('NOT_REUSABLE', `start(): the instance is ${this.current}; instances cannot be restarted, create a new one`);
  }

  /** The error for using the guest (client/startStream) in the current state, or undefined when running. */
  notRunningError(what: string): VesselError | undefined {
    switch (this.current) {
      case 'running':
        return undefined;
      case 'created':
        return new VesselError('NOT_STARTED', `${what}: the instance has not been started; start it first`);
      case 'starting':
        return new VesselError('NOT_STARTED', `${what}: the instance is still starting; wait for start to finish`);
      case 'failed':
        return new VesselError('UNAVAILABLE', `${what}: the instance failed: ${this.error?.message ?? 'unknown error'}`, { cause: this.error });
      default:
        return new VesselError('UNAVAILABLE', `${what}: the instance is ${this.current}; create a new one`);
    }
  }

  running(): void {
    if (this.current === 'starting') this.to('running');
  }

  /** starting|running → failed (records the first error). No-op once settled, and while
   * stopping unless `evenWhileStopping` (the VMM died on its own during a shutdown). */
  fail(error: Error, opts: { evenWhileStopping?: boolean } = {}): boolean {
    const allowed = this.current === 'starting' || this.current === 'running' || (opts.evenWhileStopping === true && this.current === 'stopping');
    if (!allowed) return false;
    this.error = error;
    this.to('failed', error);
    return true;
  }

  /** → stopping (unless already settled). */
  stopping(): void {
    if (this.current === 'created' || this.current === 'starting' || this.current === 'running') this.to('stopping');
  }

  /** → stopped (resources released); a failed instance stays failed. Settles whenSettled(). */
  stopped(): void {
    if (this.current !== 'failed' && this.current !== 'stopped') this.to('stopped');
    this.settle();
  }

  private to(state: InstanceState, error?: Error): void {
    const previous = this.current;
    this.current = state;
    this.emit('state', { state, previous, error, at: new Date() });
  }
}
