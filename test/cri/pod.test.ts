// A pod's life through containerd's CRI plugin with crictl, under both runtime handlers:
// runc (the baseline) and vessel (io.containerd.vessel.v2). runp → create → start → exec
// (streaming and sync: output and exit codes) → logs (stdout and stderr apart) → stop → rm
// → stopp → rmp, and then nothing is left: no pod, container, process, VM, mount, netns,
// shim socket, VM state dir, bundle, CNI rule or cache file (test/support/cri.ts). The vessel
// runtime's options name a config (ConfigPath) that gives its pod VMs 2 CPUs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HANDLERS, startCri, type CriHarness } from '../support/cri.js';

describe.each(HANDLERS)('a pod under the %s handler', (handler) => {
  let h: CriHarness;

  const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vessel-cri-config-'));

  beforeAll(async () => {
    const vesselConfigPath = path.join(configDir, 'vessel.json');
    fs.writeFileSync(vesselConfigPath, JSON.stringify({ cpus: 2 }));
    h = await startCri({ vesselConfigPath });
  }, 600_000);

  afterAll(async () => {
    await h?.stop();
    fs.rmSync(configDir, { recursive: true, force: true });
  }, 300_000);

  it('runp → create → start → exec → logs → stop → rm → stopp → rmp, and nothing is left', async () => {
    const pod = await h.runPod({ name: `life-${handler}`, handler });
    const inspected = await h.inspectPod(pod.id);
    expect(inspected.status.state).toBe('SANDBOX_READY');
    expect((inspected.info as { runtimeHandler?: string }).runtimeHandler).toBe(handler);

    // sh as the container's process: output on both streams, then TERM ends it with 0.
    const id = await h.createContainer(pod, {
      name: 'main',
      command: ['sh', '-c', 'echo to-stdout; echo to-stderr >&2; trap "exit 0" TERM; sleep 600 & wait'],
    });
    expect((await h.containerStatus(id)).state).toBe('CONTAINER_CREATED');
    await h.startContainer(id);
    expect((await h.containerStatus(id)).state).toBe('CONTAINER_RUNNING');
    // vessel runs the pod in microVMs (and the harness sees them), runc in none.
    expect(h.vmProcesses().some((p) => / qemu-system/.test(p))).toBe(handler === 'vessel');
    // the CRI passes the runtime's options: its config sized the pod's VM
    if (handler === 'vessel') expect((await h.exec(id, ['nproc'])).stdout).toBe('2\n');

    // Through the streaming server: the streams apart and the exit code.
    expect(await h.exec(id, ['sh', '-c', 'echo exec-out; echo exec-err >&2'])).toEqual({ exitCode: 0, stdout: 'exec-out\n', stderr: 'exec-err\n' });
    expect(await h.exec(id, ['sh', '-c', 'echo out; echo err >&2; exit 5'])).toEqual({ exitCode: 5, stdout: 'out\n', stderr: 'err\n' });
    // ExecSync (kubelet's probes): the output, and a failure's code and stderr.
    expect(await h.exec(id, ['sh', '-c', 'echo sync-out; echo sync-err >&2'], { sync: true })).toEqual({
      exitCode: 0,
      stdout: '',
      stderr: '',
      output: 'sync-out\n\nsync-err\n\n',
    });
    expect(await h.exec(id, ['sh', '-c', 'echo sync-err >&2; exit 7'], { sync: true })).toEqual({ exitCode: 7, stdout: '', stderr: 'sync-err\n' });

    // The CRI log is written as the output arrives: wait for both lines.
    const deadline = Date.now() + 30_000;
    let logs = await h.logs(id);
    while ((logs.stdout === '' || logs.stderr === '') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      logs = await h.logs(id);
    }
    expect(logs).toEqual({ stdout: 'to-stdout\n', stderr: 'to-stderr\n' });

    await h.stopContainer(id, 30);
    const stopped = await h.containerStatus(id);
    expect({ state: stopped.state, exitCode: stopped.exitCode }, h.logTail()).toEqual({ state: 'CONTAINER_EXITED', exitCode: 0 });
    await h.removeContainer(id);
    await h.stopPod(pod.id);
    await h.removePod(pod.id);

    expect(await h.settledLeftovers()).toEqual([]);
  }, 300_000);
});
