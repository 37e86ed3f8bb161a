// processRunning: true for a running process, false once it has exited (zombie or reaped)
// or for a pid no process has.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { processRunning } from '../../../src/host/index.js';

describe('processRunning', () => {
  it('a running process is running; once it exited it is not', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    await once(child, 'spawn');
    expect(processRunning(child.pid!)).toBe(true);
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(processRunning(child.pid!)).toBe(false);
  });

  it('this process runs; pid 0, a negative one and a free one do not', () => {
    expect(processRunning(process.pid)).toBe(true);
    expect(processRunning(0)).toBe(false);
    expect(processRunning(-1)).toBe(false);
    expect(processRunning(2 ** 22 + 1)).toBe(false); // above pid_max's ceiling
  });
});
