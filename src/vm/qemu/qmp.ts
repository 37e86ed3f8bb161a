// QmpClient: QEMU's machine protocol over its unix socket (JSON lines). Commands carry an
// id and are answered by id; events are emitted as 'event'. 'close' fires once when the
// socket ends, which is how a dead VMM is noticed. Lines are bounded (a VMM is host-side
// code, but it runs a hostile guest): an overlong line closes the connection.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { VesselError } from '../../errors/index.js';

const MAX_LINE_BYTES = 1 << 20;

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  command: string;
}

export class QmpClient extends EventEmitter<{ event: [QmpEvent]; close: [Error | undefined] }> {
  private readonly socket: net.Socket;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private closedWith: Error | undefined | null = null;
  private greeting!: () => void;
  private readonly greeted: Promise<void>;

  private constructor(socket: net.Socket) {
    super();
    this.socket = socket;
    let greetingFailed!: (err: Error) => void;
    this.greeted = new Promise((resolve, reject) => {
      this.greeting = resolve;
      greetingFailed = reject;
    });
    this.greeted.catch(() => undefined);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.finish(new VesselError('VM_EXITED', `QMP connection failed: ${err.message}`, { cause: err })));
    socket.on('close', () => this.finish(undefined));
    this.once('close', (err) => greetingFailed(err ?? new VesselError('VM_EXITED', 'QMP connection closed before the greeting')));
  }

  /** Wraps a connected socket: waits for the greeting and negotiates capabilities. */
  static async open(socket: net.Socket): Promise<QmpClient> {
    const qmp = new QmpClient(socket);
    await qmp.greeted;
    await qmp.execute('qmp_capabilities');
    return qmp;
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }

  /** Resolves once the connection has ended (every event before the end was emitted). */
  whenClosed(): Promise<void> {
    if (this.closedWith !== null) return Promise.resolve();
    return new Promise((resolve) => this.once('close', () => resolve()));
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.closedWith !== null) return Promise.reject(new VesselError('VM_EXITED', `QMP ${command}: the VMM is gone`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, command });
      this.socket.write(`${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id })}\n`);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      const part = chunk.subarray(start, nl);
      const line = this.bufferedBytes ? Buffer.concat([...this.buffered, part]) : part;
      this.buffered = [];
      this.bufferedBytes = 0;
      start = nl + 1;
      this.onLine(line.toString('utf8'));
      if (this.closedWith !== null) return;
    }
    const rest = chunk.subarray(start);
    this.bufferedBytes += rest.length;
    if (this.bufferedBytes > MAX_LINE_BYTES) {
      this.finish(new VesselError('VM_EXITED', `QMP line longer than ${MAX_LINE_BYTES} bytes`));
      this.socket.destroy();
      return;
    }
    if (rest.length) this.buffered.push(rest);
  }

  private onLine(text: string): void {
    if (!text.trim()) return;
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return; // not JSON: ignore (QEMU does not send such lines)
    }
    if ('QMP' in msg) return this.greeting();
    if (typeof msg.event === 'string') {
      this.emit('event', msg as unknown as QmpEvent);
      return;
    }
    const id = typeof msg.id === 'number' ? msg.id : undefined;
    const p = id !== undefined ? this.pending.get(id) : undefined;
    if (!p || id === undefined) return;
    this.pending.delete(id);
    if ('error' in msg) {
      const e = msg.error as { class?: string; desc?: string };
      p.reject(new VesselError('INTERNAL', `QMP ${p.command} failed: ${e.class ?? 'Error'}: ${e.desc ?? ''}`));
    } else {
      p.resolve(msg.return);
    }
  }

  private finish(err: Error | undefined): void {
    if (this.closedWith !== null) return;
    this.closedWith = err;
    for (const p of this.pending.values()) p.reject(err ?? new VesselError('VM_EXITED', `QMP ${p.command}: the VMM closed the connection`));
    this.pending.clear();
    this.emit('close', err);
  }
}
