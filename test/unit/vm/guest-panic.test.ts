// Reading a guest kernel panic off the console (src/vm/qemu/guest-panic.ts), and the
// bounded wait the teardown deadlines use (src/vm/qemu/deadlines.ts).
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { within } from '../../../src/vm/qemu/deadlines.js';
import { PanicWatch, panicLine } from '../../../src/vm/qemu/guest-panic.js';
import type { QmpClient } from '../../../src/vm/qemu/qmp.js';

const SYSRQ_PANIC = [
  '[    6.120348] sysrq: Trigger a crash',
  '[    6.121020] Kernel panic - not syncing: sysrq triggered crash',
  '[    6.121801] CPU: 0 PID: 93 Comm: sh Not tainted 6.1.0-57-cloud-amd64 #1  Debian 6.1.192-3',
  '[    6.125311] Kernel Offset: disabled',
  '',
].join('\r\n');

describe('panicLine', () => {
  it('is the panic line without its timestamp, and the last one when there are several', () => {
    expect(panicLine(SYSRQ_PANIC)).toBe('Kernel panic - not syncing: sysrq triggered crash');
    expect(panicLine('Kernel panic - not syncing: first\nKernel panic - not syncing: Attempted to kill init! exitcode=0x00000100\n')).toBe(
      'Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100',
    );
  });

  it('is undefined for a console without one (an oops that did not panic, a clean power-off)', () => {
    expect(panicLine('[    3.1] BUG: kernel NULL pointer dereference\n[    9.0] reboot: Power down\n')).toBeUndefined();
    expect(panicLine('')).toBeUndefined();
  });
});

describe('PanicWatch', () => {
  it("QMP's GUEST_PANICKED alone is a panic; the console line, when there is one, is the message", () => {
    const qmp = new EventEmitter();
    const watch = new PanicWatch();
    watch.watch(qmp as unknown as QmpClient);
    expect(watch.failure('booted\n')).toBeUndefined();
    expect(watch.failure(SYSRQ_PANIC)).toMatchObject({
      code: 'GUEST_PANICKED',
      message: 'the guest kernel panicked: Kernel panic - not syncing: sysrq triggered crash',
    });
    qmp.emit('event', { event: 'SHUTDOWN', data: { guest: true } });
    expect(watch.failure('booted\n')).toBeUndefined();
    qmp.emit('event', { event: 'GUEST_PANICKED', data: { action: 'exit-failure' } });
    expect(watch.failure('booted\n')).toMatchObject({
      code: 'GUEST_PANICKED',
      message: expect.stringMatching(/^the guest kernel panicked \(QEMU reported GUEST_PANICKED/),
    });
  });
});

describe('teardown deadlines', () => {
  it('within() says whether a promise settled in time, rejections included', async () => {
    expect(await within(Promise.resolve(), 1_000)).toBe(true);
    expect(await within(Promise.reject(new Error('x')), 1_000)).toBe(true);
    const t0 = performance.now();
    expect(await within(new Promise(() => undefined), 50)).toBe(false);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45);
  });
});
