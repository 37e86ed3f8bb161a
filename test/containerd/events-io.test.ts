// What containerd sees of a vessel task beyond exit codes: the task events the shim
// publishes (watched with `ctr events`), Pause/Resume of the VM, and stdin through
// `ctr run` (which copies its own stdin into the task's stdin FIFO, then closes it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrivateContainerd } from '../support/containerd.js';
import { watchEvents, type EventWatch } from './events-watch.js';
import { IMAGE, RUNTIME, containerdWithVessel, eventually, logTail } from './helpers.js';

describe('vessel runtime: events, pause and stdin', () => {
  let c: PrivateContainerd;
  let events: EventWatch;
  const why = () => logTail(c);

  beforeAll(async () => {
    c = await containerdWithVessel();
    events = await watchEvents(c);
  }, 600_000);

  afterAll(async () => {
    await events?.stop();
    await c?.stop();
  });

  it('ctr run --rm: /tasks/create, /tasks/start, /tasks/exit and /tasks/delete reach containerd, in order', async () => {
    const r = await c.ctr(['run', '--rm', '--runtime', RUNTIME, IMAGE, 'ev1', 'sh', '-c', 'exit 3'], { timeoutMs: 120_000 });
    expect(r.code, `${r.stderr}\n${why()}`).toBe(3);
    await events.until('/tasks/delete of ev1', (e) => e.topic === '/tasks/delete' && e.event.container_id === 'ev1');
    const seen = events.taskEvents('ev1');
    expect(seen.map((e) => e.topic)).toEqual(['/tasks/create', '/tasks/start', '/tasks/exit', '/tasks/delete']);
    const [create, start, exit, del] = seen.map((e) => e.event);
    expect(create).toMatchObject({ container_id: 'ev1', bundle: expect.stringContaining('/ev1') });
    expect(start!.pid).toEqual(expect.any(Number));
    expect(exit).toMatchObject({ container_id: 'ev1', id: 'ev1', pid: start!.pid, exit_status: 3 });
    expect(del).toMatchObject({ container_id: 'ev1', pid: start!.pid, exit_status: 3 });
  }, 180_000);

  it('ctr task pause stops the VM (State PAUSED, its clock stands still), resume continues it; both are published', async () => {
    const run = await c.ctr(['run', '-d', '--runtime', RUNTIME, IMAGE, 'p1', 'sleep', '600'], { timeoutMs: 120_000 });
    expect(run.code, `${run.stderr}\n${why()}`).toBe(0);
    const uptime = async (): Promise<number> => {
      const r = await c.ctr(['task', 'exec', '--exec-id', `u${Date.now()}`, 'p1', 'cat', '/proc/uptime'], { timeoutMs: 60_000 });
      expect(r.code, r.stderr).toBe(0);
      return Number(r.stdout.split(' ')[0]);
    };
    const guestBefore = await uptime();
    const hostBefore = Date.now();
    const pause = await c.ctr(['task', 'pause', 'p1']);
    expect(pause.code, `${pause.stderr}\n${why()}`).toBe(0);
    expect((await c.ctr(['task', 'ls'])).stdout).toMatch(/^p1\s+\d+\s+PAUSED$/m);
    await events.until('/tasks/paused of p1', (e) => e.topic === '/tasks/paused' && e.event.container_id === 'p1');
    // a stopped guest cannot report; the shim refuses (containerd reports no metrics) instead of hanging
    const metrics = await c.ctr(['task', 'metrics', 'p1'], { timeoutMs: 20_000 });
    expect(metrics.code, metrics.stderr).not.toBe(0);
    // the VM stays stopped for a measured while: that wait is what the test is about
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const resume = await c.ctr(['task', 'resume', 'p1']);
    expect(resume.code, `${resume.stderr}\n${why()}`).toBe(0);
    expect((await c.ctr(['task', 'ls'])).stdout).toMatch(/^p1\s+\d+\s+RUNNING$/m);
    await events.until('/tasks/resumed of p1', (e) => e.topic === '/tasks/resumed' && e.event.container_id === 'p1');
    const guestDelta = (await uptime()) - guestBefore;
    const hostDelta = (Date.now() - hostBefore) / 1000;
    // QMP stop halts the guest's virtual clock: it missed (most of) the 3 s pause
    expect(guestDelta, `guest ${guestDelta} s vs host ${hostDelta} s`).toBeLessThan(hostDelta - 2);
    expect(
      events
        .taskEvents('p1')
        .map((e) => e.topic)
        .filter((t) => t === '/tasks/paused' || t === '/tasks/resumed'),
    ).toEqual(['/tasks/paused', '/tasks/resumed']);
    expect((await c.ctr(['task', 'kill', '-s', 'SIGKILL', 'p1'])).code).toBe(0);
    await eventually('p1 STOPPED', async () => /^p1\s+\d+\s+STOPPED$/m.test((await c.ctr(['task', 'ls'])).stdout));
    expect((await c.ctr(['task', 'delete', 'p1'])).code).toBe(0);
    expect((await c.ctr(['containers', 'rm', 'p1'])).code).toBe(0);
  }, 240_000);

  it('ctr run: its stdin reaches the process byte for byte and its EOF ends it', async () => {
    const input = Array.from({ length: 4000 }, (_, i) => `line ${i} ${'x'.repeat(i % 61)}\n`).join('');
    expect(input.length).toBeGreaterThan(128 * 1024); // more than two FIFO buffers
    const r = await c.ctr(['run', '--rm', '--runtime', RUNTIME, IMAGE, 'in1', 'cat'], { input, timeoutMs: 120_000 });
    expect(r.code, `${r.stderr}\n${why()}`).toBe(0);
    expect(r.stdout.length).toBe(input.length);
    expect(r.stdout === input).toBe(true);
  }, 180_000);
});
