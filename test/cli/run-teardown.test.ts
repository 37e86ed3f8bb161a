// `vessel run` against guests that do not cooperate, each on a real VM: a fork bomb that
// wedges the guest, then Ctrl-C pressed twice (SIGINT to the whole foreground process
// group, as a terminal sends it) or one SIGINT; and a guest kernel panic. Each run ends
// within the bound the README promises, with the promised code and message, and leaves
// no instance dir and no qemu / virtiofsd / passt. The signal cases run the real process
// (bin/vessel.js, compiled: npm test builds first).
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/index.js';
import { SIGNAL_GRACE_MS } from '../../src/cli/run/command.js';
import { SHUTDOWN_BOUND_MS } from '../../src/vm/index.js';
import { newTestManager } from '../support/backend.js';
import { FORK_BOMB_SCRIPT, SATURATED } from '../support/fork-bomb.js';
import { instanceDirs, processesOf, sink, spawnChild, useTestHome, vesselBin, type TestHome } from './helpers.js';

const BOOT = 120_000;
/** A boot plus a fork bomb growing to the guest's limits under TCG (tens of seconds on a busy host). */
const BOMB = 240_000;
/** What the README promises: a run is gone within 10 s of the first signal, whatever the guest does. */
const SIGNAL_BOUND_MS = 10_000;

let home: TestHome;

beforeAll(async () => {
  home = await useTestHome();
}, 600_000);

afterAll(async () => {
  await home?.restore();
});

afterEach(() => {
  expect(instanceDirs(home)).toEqual([]);
  expect(processesOf(home)).toEqual([]);
});

/** vessel's own lines on a run's stderr (the rest is the guest's: "can't fork" and, with --console, its console). */
function vesselLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('vessel run'));
}

/** Signals a pid, or with `group` its whole process group; one that has exited already is no error. */
function signal(pid: number, sig: NodeJS.Signals, group = false): void {
  try {
    process.kill(group ? -pid : pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

describe('vessel run: every teardown is bounded', () => {
  it('by construction: the grace a signalled command gets plus the bounded shutdown fit in 10 s', () => {
    expect(SIGNAL_GRACE_MS + SHUTDOWN_BOUND_MS).toBeLessThanOrEqual(SIGNAL_BOUND_MS);
  });

  it(
    'a fork bomb, then Ctrl-C twice 0.3 s apart (SIGINT to the process group): 130 within 10 s, nothing left',
    async () => {
      const child = spawnChild('node', [vesselBin, 'run', '--console', '--', 'sh', '-c', FORK_BOMB_SCRIPT], { VESSEL_HOME: home.dir }, { detached: true });
      await child.waitForStdout('started\n');
      await child.waitForStderr(SATURATED);
      const pid = child.proc.pid!;
      const first = Date.now();
      signal(pid, 'SIGINT', true);
      await sleep(300); // the scenario: a second ^C 0.3 s after the first
      signal(pid, 'SIGINT', true);
      const { code, signal: killedBy } = await child.exited;
      expect(Date.now() - first).toBeLessThanOrEqual(SIGNAL_BOUND_MS);
      // (QEMU in vessel's process group would take the ^C itself and quit: 125, "connection closed")
      expect({ code, killedBy, said: vesselLines(child.stderr()) }).toEqual({ code: 130, killedBy: null, said: [] });
    },
    BOMB,
  );

  it(
    "a fork bomb at the guest's limits, then one SIGINT: 130 within 10 s, nothing left",
    async () => {
      const child = spawnChild('node', [vesselBin, 'run', '--console', '--', 'sh', '-c', FORK_BOMB_SCRIPT], { VESSEL_HOME: home.dir });
      await child.waitForStdout('started\n');
      await child.waitForStderr(SATURATED);
      const first = Date.now();
      signal(child.proc.pid!, 'SIGINT');
      const { code } = await child.exited;
      expect(Date.now() - first).toBeLessThanOrEqual(SIGNAL_BOUND_MS);
      expect({ code, said: vesselLines(child.stderr()) }).toEqual({ code: 130, said: [] });
    },
    BOMB,
  );
});

describe('vessel run: a guest kernel panic', () => {
  it(
    'is said as such, with the panic line, and exits 125',
    async () => {
      const out = sink();
      const err = sink();
      const code = await runCli(['run', '--', 'sh', '-c', 'echo c > /proc/sysrq-trigger'], newTestManager, out, err);
      expect(err.text()).toBe('vessel run: GUEST_PANICKED: the guest kernel panicked: Kernel panic - not syncing: sysrq triggered crash\n');
      expect(code).toBe(125);
      expect(out.text()).toBe('');
    },
    BOOT,
  );
});
