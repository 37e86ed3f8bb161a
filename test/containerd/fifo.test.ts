// containerd's stdin FIFO, opened before its writer (ctr opens its end only once a reader
// exists, and may open it late): the open must not block, and the stream must not read as
// EOF until a writer has come and gone; then it carries the writer's bytes and ends.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStdinFifo } from '../../src/shim/fifo.js';
import { makePrivateTempDir } from '../support/tmpdir.js';

describe('stdin FIFO', () => {
  let tmp: Awaited<ReturnType<typeof makePrivateTempDir>>;
  let fifo: string;

  beforeEach(async () => {
    tmp = await makePrivateTempDir('fifo');
    fifo = path.join(tmp.dir, 'stdin');
    execFileSync('mkfifo', [fifo]);
  });

  afterEach(async () => {
    await tmp.remove();
  });

  it('does not read as EOF before a writer opened; then carries its bytes and ends when it closes', async () => {
    const s = openStdinFifo(fifo); // returns at once: no writer yet
    const chunks: Buffer[] = [];
    let ended = false;
    s.on('data', (d: Buffer) => chunks.push(d));
    const end = new Promise<void>((resolve) =>
      s.once('end', () => {
        ended = true;
        resolve();
      }),
    );
    // give the event loop many turns with the reader armed and no writer: nothing may arrive
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect({ ended, bytes: chunks.length }).toEqual({ ended: false, bytes: 0 });
    const w = await fs.promises.open(fifo, fs.constants.O_WRONLY); // a reader exists: does not block
    const data = Buffer.alloc(200_000, 'v');
    await w.write(data);
    await w.close();
    await end;
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    s.destroy();
  });
});
