// `vessel doctor` on this host and with tools hidden, and `vessel gc` ending a helper
// genuinely orphaned by a SIGKILLed vessel process (a child node that created an instance
// dir and recorded a helper, as `vessel run` does). The child imports the compiled
// modules, so this needs `npm run build` (npm test builds first).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/index.js';
import { newTestManager } from '../support/backend.js';
import { createInstanceDir } from '../../src/cli/instances.js';
import { processStartTime } from '../../src/host/index.js';
import { repoRoot } from '../support/repo.js';
import { instanceDirs, sink, spawnChild, useTestHome, type TestHome } from './helpers.js';

let home: TestHome;
beforeAll(async () => {
  home = await useTestHome();
}, 600_000);
afterAll(async () => {
  await home?.restore();
});

describe('vessel doctor', () => {
  it('reports every item on this host and says vessel can run VMs (exit 0)', async () => {
    const out = sink();
    expect(await runCli(['doctor'], newTestManager, out, sink())).toBe(0);
    const text = out.text();
    for (const line of [
      /^ok {4}accelerator {8}(kvm|tcg)/m,
      /^ok {4}qemu-system-x86_64 \/\S+ \(QEMU emulator version \d/m,
      /^ok {4}virtiofsd {10}\//m,
      /^ok {4}passt {14}\//m,
      /^ok {4}setpriv {12}\//m,
      /^ok {4}guest kernel {7}linux-image-cloud-amd64 /m,
      /^ok {4}default image {6}[0-9a-f]{16} built and verified/m,
    ])
      expect(text).toMatch(line);
    expect(text).toMatch(/vessel can run VMs\n$/);
  }, 60_000);

  it('a missing QEMU fails with what to install (exit 1); a missing passt only warns', async () => {
    const saved = { q: process.env.VESSEL_QEMU, p: process.env.VESSEL_PASST };
    process.env.VESSEL_QEMU = '/nonexistent/qemu';
    process.env.VESSEL_PASST = '/nonexistent/passt';
    try {
      const out = sink();
      expect(await runCli(['doctor'], newTestManager, out, sink())).toBe(1);
      const text = out.text();
      expect(text).toMatch(/^FAIL {2}qemu-system-x86_64 not found\n.*→ apt-get install qemu-system-x86/m);
      expect(text).toMatch(/^WARN {2}passt {14}not found \(needed for --net\)\n.*→ apt-get install passt/m);
      expect(text).toMatch(/vessel cannot run VMs: fix qemu-system-x86_64\n$/);
    } finally {
      for (const [k, v] of [
        ['VESSEL_QEMU', saved.q],
        ['VESSEL_PASST', saved.p],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  }, 60_000);
});

describe('vessel gc', () => {
  const child = `
    import { spawn } from 'node:child_process';
    const { createInstanceDir } = await import(${JSON.stringify(path.join(repoRoot, 'dist/src/cli/instances.js'))});
    const { writeRecord } = await import(${JSON.stringify(path.join(repoRoot, 'dist/src/vm/helpers/records.js'))});
    const { processStartTime, selfIdentity } = await import(${JSON.stringify(path.join(repoRoot, 'dist/src/host/index.js'))});
    const { dir } = createInstanceDir();
    // no pdeathsig: this helper outlives its owner, as a helper of a crashed vessel could
    const helper = spawn('sleep', ['1000'], { stdio: 'ignore', detached: true });
    await new Promise((r) => helper.once('spawn', r));
    writeRecord(dir, { name: 'helper-sleep', pid: helper.pid, startTime: processStartTime(helper.pid), command: 'sleep', owner: selfIdentity() });
    console.log(JSON.stringify({ dir, pid: helper.pid }));
    setInterval(() => {}, 1000);
  `;

  it('ends the helper of a SIGKILLed owner and removes its dir; skips a dir in use; reports a missing one', async () => {
    const owner = spawnChild('node', ['--input-type=module', '-e', child], { VESSEL_HOME: home.dir });
    await owner.waitForStdout('}\n');
    const { dir, pid } = JSON.parse(owner.stdout()) as { dir: string; pid: number };
    const helperStart = processStartTime(pid);
    expect(helperStart).toBeDefined();
    const live = createInstanceDir(); // owned by this (live) process
    try {
      // while the owner lives, its dir is in use
      const busy = sink();
      expect(await runCli(['gc', dir], newTestManager, busy, sink())).toBe(0);
      expect(busy.text()).toBe(`skipped ${dir}: in use by vessel process ${owner.proc.pid}\n`);

      owner.proc.kill('SIGKILL');
      await owner.exited;
      expect(processStartTime(pid)).toBe(helperStart); // the orphan survived its owner

      const out = sink();
      const err = sink();
      expect(await runCli(['gc'], newTestManager, out, err)).toBe(0);
      expect(out.text()).toContain(`killed helper-sleep (pid ${pid}, owner ${owner.proc.pid} gone) in ${dir}\nremoved ${dir}\n`);
      expect(out.text()).toContain(`skipped ${live.dir}: in use by vessel process ${process.pid}\n`);
      expect(processStartTime(pid)).toBeUndefined();
      expect(fs.existsSync(dir)).toBe(false);
      expect(instanceDirs(home)).toEqual([live.id]);

      const again = sink();
      const missing = sink();
      expect(await runCli(['gc', path.join(home.dir, 'nope')], newTestManager, again, missing)).toBe(1);
      expect(missing.text()).toMatch(/nope is not a directory/);
    } finally {
      fs.rmSync(live.dir, { recursive: true, force: true });
      if (processStartTime(pid) === helperStart) process.kill(pid, 'SIGKILL');
    }
  }, 60_000);
});
