// Per-name records of what a raw test stream saw, and the gates of `hold:` streams.
import zlib from 'node:zlib';

export interface RawStreamResult {
  bytesRead: number;
  crc32: number;
  bytesWritten: number;
  end: 'eof' | 'reset' | 'error';
  error: string;
}

export class RawStreamRecord {
  bytesRead = 0;
  crc32 = 0;
  bytesWritten = 0;
  read(chunk: Uint8Array): void {
    this.bytesRead += chunk.length;
    this.crc32 = zlib.crc32(chunk, this.crc32);
  }
}

export class RawStreamRegistry {
  private readonly results = new Map<string, RawStreamResult>();
  private readonly waiters = new Map<string, Array<(r: RawStreamResult) => void>>();
  private readonly holds = new Map<string, () => void>();

  finish(name: string, record: RawStreamRecord, end: RawStreamResult['end'], error = ''): void {
    if (this.results.has(name)) return;
    const result: RawStreamResult = { bytesRead: record.bytesRead, crc32: record.crc32, bytesWritten: record.bytesWritten, end, error };
    this.results.set(name, result);
    for (const w of this.waiters.get(name) ?? []) w(result);
    this.waiters.delete(name);
  }

  waitResult(name: string, signal: AbortSignal): Promise<RawStreamResult> {
    const done = this.results.get(name);
    if (done) return Promise.resolve(done);
    return new Promise((resolve, reject) => {
      const list = this.waiters.get(name) ?? [];
      const waiter = (r: RawStreamResult) => {
        signal.removeEventListener('abort', onAbort);
        resolve(r);
      };
      const onAbort = () => {
        const l = this.waiters.get(name);
        if (l) l.splice(l.indexOf(waiter), 1);
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      list.push(waiter);
      this.waiters.set(name, list);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  hold(name: string): Promise<void> {
    return new Promise((resolve) => this.holds.set(name, resolve));
  }

  /** 'released', or why not: no stream of that name ('unknown'), or it is no hold stream ('not-held'). */
  release(name: string): 'released' | 'unknown' | 'not-held' {
    const gate = this.holds.get(name);
    if (!gate) return this.results.has(name) || this.known.has(name) ? 'not-held' : 'unknown';
    this.holds.delete(name);
    gate();
    return 'released';
  }

  /** Names claimed on any session, for Release's answer. */
  private readonly known = new Set<string>();

  private readonly claimWaiters = new Map<string, Array<() => void>>();

  claimed(name: string): void {
    this.known.add(name);
    for (const w of this.claimWaiters.get(name) ?? []) w();
    this.claimWaiters.delete(name);
  }

  /** Resolves once a stream named `name` has been claimed on any session. */
  whenClaimed(name: string): Promise<void> {
    if (this.known.has(name)) return Promise.resolve();
    return new Promise((resolve) => this.claimWaiters.set(name, [...(this.claimWaiters.get(name) ?? []), resolve]));
  }
}
