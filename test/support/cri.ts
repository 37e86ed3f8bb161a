// A private containerd with its CRI plugin, for tests, benches and critest
// (../shared/docs/cri.md): its own config, root, state, sockets, runc root and vessel shim
// run dir (VESSEL_SHIM_RUN_DIR) under one temp dir; runtimes `runc` (default) and `vessel`
// (the launcher `vessel containerd install` writes, with the guest image it verified);
// containerd's PATH has no Go toolchain (the installed shim needs none); CNI bridge +
// host-local + portmap on a bridge and /24 of its own; crictl (.interop-bin, pinned by
// scripts/install-deps.sh) pointed at it; the sandbox and test images imported into `k8s.io`.
//
// stop() cleans up on every path: it removes every pod through the CRI (so CNI DEL runs and
// shims tear their VMs down), stops containerd by PID, ends what still works in its dir,
// unmounts, removes the dir, and undoes the host network changes (host-network.ts). SIGINT,
// SIGTERM and SIGHUP run stop() and then exit 128+N (a second signal exits at once); an exit
// without stop() still undoes what can be undone synchronously.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { runContainerd } from '../../src/cli/containerd.js';
import { containerdLog, mountsBelow, processesWorkingIn, startContainerd, type PrivateContainerd } from './containerd.js';
import { criConfig, cniConflist } from './cri/config.js';
import { hostNetworkBefore, networkLeftovers, pickNames, restoreHostNetwork, type HostNetworkNames } from './cri/host-network.js';
import { importCriImages, SANDBOX_IMAGE } from './cri/images.js';
import { execResult, type ExecResult } from './cri/exec-result.js';
import { runTool, runToolOk, runToolSync, type ToolResult } from './run-tool.js';
import { containerConfig, podConfig, type ContainerOptions, type PodOptions } from './cri/specs.js';
import { vmHelpersUnder } from './host-processes.js';
import { repoRoot } from './repo.js';
import { pathWithout } from './search-path.js';

export { SANDBOX_IMAGE, TEST_IMAGE, WWW_INDEX } from './cri/images.js';
export type { ContainerOptions, PodOptions, PortMapping } from './cri/specs.js';
export type { ToolResult } from './run-tool.js';
export type { ExecResult } from './cri/exec-result.js';
export { freePort, httpGet, waitHttp, hostAddress, type HttpAnswer } from './cri/reach.js';
export { seccompDenying } from './cri/specs.js';

export const CRICTL = path.join(repoRoot, '.interop-bin', 'crictl');
export const HANDLERS = ['runc', 'vessel'] as const;
export type Handler = (typeof HANDLERS)[number];

export interface Pod {
  id: string;
  name: string;
  handler: string;
  /** The pod config crictl was given (create needs it again). */
  configPath: string;
  logDirectory: string;
  /** The pod's network namespace (a bind mount under /var/run/netns). */
  netns: string;
}

export interface ContainerStatus {
  /** CONTAINER_CREATED, CONTAINER_RUNNING, CONTAINER_EXITED, CONTAINER_UNKNOWN. */
  state: string;
  exitCode: number;
  reason: string;
  logPath: string;
}

export interface PortForward {
  localPort: number;
  close(): Promise<void>;
}

export interface CriHarness {
  readonly dir: string;
  /** `unix://…/containerd.sock` (for crictl and critest). */
  readonly endpoint: string;
  readonly containerd: PrivateContainerd;
  readonly network: HostNetworkNames;
  /** `crictl ARGS…` against this containerd; never throws on a non-zero exit. */
  crictl(args: string[], opts?: { timeoutMs?: number; input?: string }): Promise<ToolResult>;
  /** The same; a non-zero exit throws with crictl's stderr and containerd's log tail. */
  crictlOk(args: string[], opts?: { timeoutMs?: number }): Promise<string>;
  /** runp (with `handler` as the runtime handler); resolves when the pod is ready. */
  runPod(o: PodOptions): Promise<Pod>;
  createContainer(pod: Pod, o: ContainerOptions): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** create + start. */
  runContainer(pod: Pod, o: ContainerOptions): Promise<string>;
  /**
   * `crictl exec`: through the streaming server (stdout and stderr apart), or ExecSync with
   * `sync` (see cri/exec-result.ts for what crictl lets through). The command's exit code.
   */
  exec(id: string, cmd: string[], opts?: { sync?: boolean; timeoutS?: number }): Promise<ExecResult>;
  /** `crictl logs`: the container's stdout and stderr, kept apart. */
  logs(id: string): Promise<{ stdout: string; stderr: string }>;
  containerStatus(id: string): Promise<ContainerStatus>;
  /** Polls the status until `cond` holds (bounded). */
  waitContainer(id: string, what: string, cond: (s: ContainerStatus) => boolean, timeoutMs?: number): Promise<ContainerStatus>;
  stopContainer(id: string, timeoutS?: number): Promise<void>;
  removeContainer(id: string): Promise<void>;
  stopPod(id: string): Promise<void>;
  removePod(id: string): Promise<void>;
  /** `crictl inspectp` as JSON. */
  inspectPod(id: string): Promise<PodInspect>;
  /** The pod's IPv4 address (from CNI). */
  podIP(id: string): Promise<string>;
  /** `crictl port-forward POD 0:PORT`: a local port on 127.0.0.1 forwarded into the pod. */
  portForward(podId: string, port: number): Promise<PortForward>;
  /** containerd killed and started again with the same config; resolves when CRI is ready. */
  restartContainerd(): Promise<void>;
  /** qemu processes of this harness's VMs (their command line names the harness dir). */
  vmProcesses(): string[];
  /** Everything a pod or container could leave behind; [] when clean. */
  leftovers(): Promise<string[]>;
  /** leftovers(), polled until [] (processes end and mounts go shortly after rmp returns) or `timeoutMs`. */
  settledLeftovers(timeoutMs?: number): Promise<string[]>;
  /** The containerd log's tail (for failure messages). */
  logTail(): string;
  stop(): Promise<void>;
}

export interface PodInspect {
  status: { id: string; state: string; network?: { ip?: string } };
  info?: { runtimeSpec?: { linux?: { namespaces?: Array<{ type: string; path?: string }> } } };
}

export interface CriOptions {
  /** Registry host → mirror URL for the CRI plugin (e.g. a local registry for critest). */
  mirrors?: Record<string, string>;
  /** Pod annotation keys (globs, e.g. `io.vessel.*`) the CRI passes on to the vessel runtime (default none). */
  vesselPodAnnotations?: string[];
  /** The vessel runtime's ConfigPath option (see cri/config.ts). */
  vesselConfigPath?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function installVessel(binDir: string): Promise<void> {
  const out = new PassThrough();
  const err = new PassThrough();
  let text = '';
  for (const s of [out, err]) s.on('data', (c: Buffer) => (text += c.toString()));
  const code = await runContainerd(['install', '--bin-dir', binDir], out, err);
  if (code !== 0) throw new Error(`vessel containerd install failed (${code}):\n${text}`);
}

/** A harness for one test file (or bench, or critest run). */
export async function startCri(opts: CriOptions = {}): Promise<CriHarness> {
  const before = hostNetworkBefore();
  const network = pickNames();
  const netns = new Set<string>(); // every pod netns seen, removed at stop if still there
  const children = new Set<ChildProcess>(); // port-forwards
  let c: PrivateContainerd | undefined;
  let stopped = false;
  let stopping: Promise<void> | undefined;

  const exitCleanup = () => {
    // Synchronous last resort (the process is exiting without stop()).
    if (stopped) return;
    for (const ch of children) ch.kill('SIGKILL');
    if (c) {
      try {
        process.kill(c.pid(), 'SIGKILL'); // first, so it starts nothing more
      } catch {
        /* gone */
      }
      for (const pid of processesWorkingIn(c.dir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      for (const m of mountsBelow(c.dir)) runToolSync('umount', ['-l', m]);
      fs.rmSync(c.dir, { recursive: true, force: true });
    }
    restoreHostNetwork(network, before, netns);
  };
  process.on('exit', exitCleanup);
  let signalled = false;
  const ref: { harness?: CriHarness } = {};
  const onSignal = (sig: NodeJS.Signals) => {
    const status = 128 + (os.constants.signals[sig] ?? 0);
    if (signalled || !ref.harness) process.exit(status); // the exit handler undoes what it can
    signalled = true;
    process.stderr.write(`cri harness: ${sig}, cleaning up (again to exit at once)\n`);
    void ref.harness.stop().finally(() => process.exit(status));
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
  const unhook = () => {
    process.off('exit', exitCleanup);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(sig, onSignal);
  };

  try {
    c = await startContainerd({
      prefix: 'cri',
      dirs: ['cni/net.d', 'cni/ipam', 'logs', 'pods', 'run'],
      path: pathWithout(process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', 'go'),
      // The shims' sockets and VM state dirs live in the harness dir too.
      env: (dir) => ({ VESSEL_SHIM_RUN_DIR: `${dir}/run` }),
      config: (dir) =>
        criConfig({
          dir,
          sandboxImage: SANDBOX_IMAGE,
          cniConfDir: `${dir}/cni/net.d`,
          mirrors: opts.mirrors,
          vesselPodAnnotations: opts.vesselPodAnnotations,
          vesselConfigPath: opts.vesselConfigPath,
        }),
      prepare: async (dir) => {
        fs.writeFileSync(
          path.join(dir, 'cni/net.d/10-vessel-cri.conflist'),
          cniConflist({ name: network.netName, bridge: network.bridge, subnet: network.subnet, dataDir: `${dir}/cni/ipam` }),
        );
        fs.writeFileSync(
          path.join(dir, 'crictl.yaml'),
          `runtime-endpoint: unix://${dir}/containerd.sock\nimage-endpoint: unix://${dir}/containerd.sock\ntimeout: 120\npull-image-on-create: false\n`,
        );
        await installVessel(path.join(dir, 'bin'));
      },
    });
  } catch (err) {
    unhook();
    restoreHostNetwork(network, before, netns);
    throw err;
  }
  const ctd = c;
  const dir = ctd.dir;
  const endpoint = `unix://${ctd.socket}`;
  const crictlEnv = { ...ctd.env };
  const logTail = () => containerdLog(ctd).slice(-6000);

  const crictl = (args: string[], o: { timeoutMs?: number; input?: string } = {}) =>
    runTool(CRICTL, ['--config', path.join(dir, 'crictl.yaml'), ...args], { env: crictlEnv, timeoutMs: o.timeoutMs ?? 180_000, input: o.input });
  const crictlOk = async (args: string[], o: { timeoutMs?: number } = {}) => {
    const r = await crictl(args, o);
    if (r.code !== 0) throw new Error(`crictl ${args.join(' ')}: exit ${r.code}\n${r.stderr.trim()}\ncontainerd log:\n${logTail()}`);
    return r.stdout;
  };
  const inspectPod = async (id: string) => JSON.parse(await crictlOk(['inspectp', id])) as PodInspect;
  const netnsOf = (p: PodInspect) => p.info?.runtimeSpec?.linux?.namespaces?.find((n) => n.type === 'network')?.path ?? '';
  const containerStatus = async (id: string): Promise<ContainerStatus> => {
    const s = (JSON.parse(await crictlOk(['inspect', id])) as { status: Record<string, unknown> }).status;
    return { state: String(s.state), exitCode: Number(s.exitCode ?? 0), reason: String(s.reason ?? ''), logPath: String(s.logPath ?? '') };
  };
  const criReady = async () => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await crictl(['info'], { timeoutMs: 10_000 });
      if (r.code === 0) {
        const conds = (JSON.parse(r.stdout) as { status?: { conditions?: Array<{ type: string; status: boolean }> } }).status?.conditions ?? [];
        if (['RuntimeReady', 'NetworkReady'].every((t) => conds.some((x) => x.type === t && x.status))) return;
      }
      if (Date.now() > deadline) throw new Error(`the CRI plugin was not ready within 60 s:\n${r.stdout}${r.stderr}\n${logTail()}`);
      await sleep(100);
    }
  };
  const containerdAlive = () => {
    try {
      process.kill(ctd.pid(), 0);
      return fs.existsSync(ctd.socket);
    } catch {
      return false;
    }
  };

  const harness: CriHarness = {
    dir,
    endpoint,
    containerd: ctd,
    network,
    crictl,
    crictlOk,
    async runPod(o) {
      const logDirectory = path.join(dir, 'logs', `${o.name}-${netns.size}-${Date.now()}`);
      fs.mkdirSync(logDirectory, { recursive: true });
      const configPath = path.join(dir, 'pods', `${path.basename(logDirectory)}.json`);
      fs.writeFileSync(configPath, JSON.stringify(podConfig(o, logDirectory)));
      const id = (await crictlOk(['runp', ...(o.handler ? ['--runtime', o.handler] : []), configPath])).trim();
      const p = await inspectPod(id);
      const ns = netnsOf(p);
      if (ns) netns.add(ns);
      return { id, name: o.name, handler: o.handler ?? 'runc', configPath, logDirectory, netns: ns };
    },
    async createContainer(pod, o) {
      const file = path.join(dir, 'pods', `${path.basename(pod.logDirectory)}-${o.name}.json`);
      fs.writeFileSync(file, JSON.stringify(containerConfig(o)));
      return (await crictlOk(['create', '--no-pull', pod.id, file, pod.configPath])).trim();
    },
    async startContainer(id) {
      await crictlOk(['start', id]);
    },
    async runContainer(pod, o) {
      const id = await harness.createContainer(pod, o);
      await harness.startContainer(id);
      return id;
    },
    async exec(id, cmd, o = {}) {
      const timeout = o.timeoutS ?? 60;
      const r = await crictl(['exec', ...(o.sync ? ['--sync'] : []), '--timeout', String(timeout), id, ...cmd], { timeoutMs: (timeout + 30) * 1000 });
      return execResult(r, o.sync === true);
    },
    async logs(id) {
      const r = await crictl(['logs', id]);
      if (r.code !== 0 && r.stdout === '') throw new Error(`crictl logs ${id}: exit ${r.code}\n${r.stderr}`);
      return { stdout: r.stdout, stderr: r.stderr };
    },
    containerStatus,
    async waitContainer(id, what, cond, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = await containerStatus(id);
        if (cond(s)) return s;
        if (Date.now() > deadline) throw new Error(`container ${id}: timed out after ${timeoutMs} ms waiting for ${what}; last ${JSON.stringify(s)}`);
        await sleep(100);
      }
    },
    async stopContainer(id, timeoutS = 10) {
      await crictlOk(['stop', '--timeout', String(timeoutS), id]);
    },
    async removeContainer(id) {
      await crictlOk(['rm', id]);
    },
    async stopPod(id) {
      await crictlOk(['stopp', id]);
    },
    async removePod(id) {
      await crictlOk(['rmp', id]);
    },
    inspectPod,
    async podIP(id) {
      const ip = (await inspectPod(id)).status.network?.ip;
      if (!ip) throw new Error(`pod ${id} has no IP`);
      return ip;
    },
    async portForward(podId, port) {
      const p = spawn(CRICTL, ['--config', path.join(dir, 'crictl.yaml'), 'port-forward', podId, `0:${port}`], {
        env: crictlEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.add(p);
      const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
      void exited.then(() => children.delete(p));
      const close = async () => {
        p.kill('SIGTERM');
        const t = setTimeout(() => p.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      };
      let text = '';
      const localPort = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`crictl port-forward ${podId} 0:${port}: no "Forwarding from" within 30 s:\n${text}`)), 30_000);
        const onData = (b: Buffer) => {
          text += b.toString();
          const m = /Forwarding from 127\.0\.0\.1:(\d+) ->/.exec(text);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        };
        p.stdout.on('data', onData);
        p.stderr.on('data', onData);
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`crictl port-forward exited: ${text}`));
        });
      }).catch(async (err: unknown) => {
        await close();
        throw err;
      });
      return { localPort, close };
    },
    async restartContainerd() {
      await ctd.kill();
      await ctd.restart();
      await criReady();
    },
    vmProcesses() {
      return vmHelpersUnder(dir);
    },
    async leftovers() {
      const left: string[] = [];
      const pods = (await crictlOk(['pods', '-q'])).split('\n').filter(Boolean);
      const ctrs = (await crictlOk(['ps', '-a', '-q'])).split('\n').filter(Boolean);
      left.push(...pods.map((p) => `pod ${p}`), ...ctrs.map((x) => `container ${x}`));
      const self = ctd.pid();
      left.push(
        ...processesWorkingIn(dir)
          .filter((pid) => pid !== self)
          .map((pid) => `process ${pid} ${comm(pid)}`),
      );
      left.push(...harness.vmProcesses().map((p) => `vm process ${p}`));
      left.push(...mountsBelow(dir).map((m) => `mount ${m}`));
      for (const sub of ['run/vm', 'run/shim', `state/io.containerd.runtime.v2.task/k8s.io`]) {
        const d = path.join(dir, sub);
        if (fs.existsSync(d)) left.push(...fs.readdirSync(d).map((e) => `${sub}/${e}`));
      }
      left.push(...networkLeftovers(network, netns));
      return left;
    },
    async settledLeftovers(timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const left = await harness.leftovers();
        if (left.length === 0 || Date.now() > deadline) return left;
        await sleep(100);
      }
    },
    logTail,
    stop() {
      stopping ??= (async () => {
        for (const ch of children) ch.kill('SIGKILL');
        if (containerdAlive()) {
          // Through the CRI first: CNI DEL, and shims tear their VMs down.
          const pods = (await crictl(['pods', '-q'], { timeoutMs: 20_000 })).stdout.split('\n').filter(Boolean);
          for (const id of pods) {
            const ins = await crictl(['inspectp', id], { timeoutMs: 20_000 });
            if (ins.code === 0) {
              const ns = netnsOf(JSON.parse(ins.stdout) as PodInspect);
              if (ns) netns.add(ns);
            }
            await crictl(['rmp', '-f', id], { timeoutMs: 120_000 });
          }
        }
        await ctd.stop();
        const problems = restoreHostNetwork(network, before, netns);
        stopped = true;
        unhook();
        if (problems.length) throw new Error(`cri harness cleanup:\n${problems.join('\n')}`);
      })();
      return stopping;
    },
  };

  ref.harness = harness;
  try {
    await importCriImages(ctd, path.join(dir, 'images'));
    await criReady();
  } catch (err) {
    await harness.stop().catch(() => undefined);
    throw err;
  }
  return harness;
}

function comm(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/** Reads a CRI log file's lines by stream (for checks beyond `crictl logs`). */
export function criLogLines(file: string): Array<{ stream: string; text: string }> {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [, stream = '', , ...rest] = l.split(' ');
      return { stream, text: rest.join(' ') };
    });
}

export { runToolOk };
