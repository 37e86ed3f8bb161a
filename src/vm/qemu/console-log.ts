// ConsoleLog: the guest's serial console, written to `<stateDir>/console.log` (rotated to
// console.log.1 at a size limit, so a chatty or hostile guest costs bounded disk), kept as
// a bounded tail for error messages, and teed to the caller's writer. A writer that does
// not keep up loses console output rather than growing our memory. `append` continues an
// existing log (an instance re-attached after live restore).
import fs from 'node:fs';
import type { Writable } from 'node:stream';
import { OutputTail } from './output-tail.js';

const MAX_FILE_BYTES = 4 * 1024 * 1024;
const MAX_WRITER_BACKLOG = 1024 * 1024;

export class ConsoleLog {
  private fd: number;
  private fileBytes = 0;
  private readonly tail = new OutputTail(8 * 1024);
  /** Bytes not passed to the writer because it was too far behind. */
  droppedForWriter = 0;
  private readonly listeners = new Set<(chunk: Buffer) => void>();

  constructor(
    readonly path: string,
    private readonly writer?: Writable,
    opts: { append?: boolean } = {},
  ) {
    this.fd = fs.openSync(path, opts.append ? 'a' : 'w', 0o600);
    if (opts.append) this.fileBytes = fs.fstatSync(this.fd).size;
  }

  /** Live console output (synchronous; a listener must not block). Returns the unsubscribe. */
  subscribe(listener: (chunk: Buffer) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  write(chunk: Buffer): void {
    this.tail.push(chunk);
    for (const l of this.listeners) l(chunk);
    if (this.fd >= 0) {
      if (this.fileBytes + chunk.length > MAX_FILE_BYTES) this.rotate();
      fs.writeSync(this.fd, chunk);
      this.fileBytes += chunk.length;
    }
    if (this.writer && !this.writer.destroyed) {
      if (this.writer.writableLength > MAX_WRITER_BACKLOG) this.droppedForWriter += chunk.length;
      else this.writer.write(chunk);
    }
  }

  text(): string {
    return this.tail.text();
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }

  private rotate(): void {
    fs.closeSync(this.fd);
    fs.renameSync(this.path, `${this.path}.1`);
    this.fd = fs.openSync(this.path, 'w', 0o600);
    this.fileBytes = 0;
  }
}
