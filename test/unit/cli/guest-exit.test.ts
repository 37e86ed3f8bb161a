import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { guestExit } from '../../../src/cli/errors.js';

function stderr(): PassThrough & { text: () => string } {
  const s = new PassThrough() as PassThrough & { text: () => string };
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  s.text = () => Buffer.concat(chunks).toString();
  return s;
}

describe('guestExit', () => {
  it('a process the guest OOM killer ended: 137, and the message says so', () => {
    const err = stderr();
    expect(guestExit({ exitCode: 137, signal: 9, oomKilled: true }, 'vessel exec', 'java', err)).toBe(137);
    expect(err.text()).toBe("vessel exec: java: killed by the guest's OOM killer (out of memory)\n");
  });

  it('any other end: its status, nothing said', () => {
    const err = stderr();
    expect(guestExit({ exitCode: 137, signal: 9, oomKilled: false }, 'vessel run', 'sh', err)).toBe(137);
    expect(guestExit({ exitCode: 3, signal: 0 }, 'vessel run', 'sh', err)).toBe(3);
    expect(guestExit({ exitCode: 130, signal: 2 }, 'vessel run', 'sh', err)).toBe(130);
    expect(err.text()).toBe('');
  });
});
