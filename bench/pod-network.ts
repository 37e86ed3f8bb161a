// Figure: TCP throughput between the host and a pod's IP, vessel (io.containerd.vessel.v2:
// the pod is a VM whose NIC is a passt running in the pod's network namespace) against
// runc (io.containerd.runc.v2: the pod's processes join the namespace directly), in one
// private containerd (test/support/containerd.ts) with the busybox image the tests build
// (test/support/oci-image.ts). Each runtime gets its own namespace as CNI's bridge plugin
// leaves one (test/support/veth-netns.ts: a veth pair, the pod IP inside), and one pod
// sandbox in it, started as the CRI starts one (`ctr run -d` with the CRI annotations and
// `--with-ns network:/run/netns/NAME`). The pod makes a file of BENCH_MIB (64) MiB with dd
// in its /tmp (a tmpfs in vessel's guest; runc's overlay rootfs, in the page cache), serves
// it with busybox httpd on :8080, and reads uploads on :9000 (bench/pod-network-transfers.ts
// for both directions and how delivery is checked). Both pods run throughout; after one
// untimed warm-up of each direction per runtime, rounds are interleaved (download runc,
// vessel, upload runc, vessel). Also printed: each pod's start (`ctr run -d` → both
// servers answer; vessel's includes the VM's boot), the TCG/KVM accelerator, the VM's size
// and the ports the live passt forwards. Informative, no goal. Prints one JSON object.
//
// Cleanup on every path (success, a failed step, SIGINT/SIGTERM/SIGHUP): the running ctr
// and transfer are cut, each pod is killed and removed through containerd (so vessel's
// shim tears its VM and passt down), the harness stops containerd, ends every process
// still working in a bundle, unmounts and removes its dir; what a vessel shim keeps outside
// the bundle is reaped and removed; last, each namespace is emptied (by PID) and deleted
// with its veth pair. A second signal exits at once.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureDefaultImage } from '../src/image/index.js';
import { shimLauncher } from '../src/shim/index.js';
import { existingVmStateDir, shimSocketPath } from '../src/shim/paths.js';
import { DEFAULT_CPUS, DEFAULT_RAM_MIB } from '../src/vm/index.js';
import { forwardedPorts, openFilesHardLimit } from '../src/vm/net/passt.js';
import { chooseAccelerator } from '../src/vm/qemu/index.js';
import { startContainerd } from '../test/support/containerd.js';
import { buildOciImage } from '../test/support/oci-image.js';
import { VethNetns } from '../test/support/veth-netns.js';
import { MIB, contentLength, download, upload, type TransferOptions } from './pod-network-transfers.js';
import { checkInterrupted, cleanUp, ctrFailure, handleSignals, interruption, runBench, runCtr } from './ctr-bench.js';
import { median, printFigure, round, roundRatios } from './stats.js';

const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
const TRANSFER_MIB = Math.max(1, Number(process.env.BENCH_MIB ?? 64));
const TRANSFER_TIMEOUT_MS = Number(process.env.BENCH_TRANSFER_TIMEOUT_MS ?? 180_000);
const CTR_TIMEOUT_MS = 120_000;
const READY_TIMEOUT_MS = 180_000;
const IMAGE = 'docker.io/library/vessel-bench:latest';
const NAMESPACE = 'default';
const HTTP_PORT = 8080;
const SINK_PORT = 9000;
const RUNTIMES = { runc: 'io.containerd.runc.v2', vessel: 'io.containerd.vessel.v2' } as const;

type Runtime = keyof typeof RUNTIMES;

/** What each pod runs: the file, httpd (which daemonizes), then the upload sink as the pod's init. */
const POD_SCRIPT =
  `dd if=/dev/zero of=/tmp/blob bs=1M count=${TRANSFER_MIB} 2>/dev/null && httpd -p ${HTTP_PORT} -h /tmp && ` +
  `exec nc -ll -p ${SINK_PORT} -e sh -c 'exec dd of=/dev/null bs=1M iflag=fullblock 2>&1'`;

handleSignals('pod-network');

function transferOptions(timeoutMs = TRANSFER_TIMEOUT_MS): TransferOptions {
  return { timeoutMs, signal: interruption };
}

/** Polls until the pod serves the whole file and its sink acknowledges an empty upload (no event says so). */
async function waitReady(net: VethNetns, what: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last: unknown;
  for (;;) {
    checkInterrupted();
    try {
      const size = await contentLength(`http://${net.podIp}:${HTTP_PORT}/blob`, transferOptions(5_000));
      if (size !== TRANSFER_MIB * MIB) throw new Error(`the pod serves ${size} bytes, expected ${TRANSFER_MIB * MIB}`);
      await upload(net.podIp, SINK_PORT, Buffer.alloc(0), transferOptions(5_000));
      return;
    } catch (err) {
      checkInterrupted();
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${READY_TIMEOUT_MS} ms waiting for ${what}: ${String(last)}`);
    await sleep(100);
  }
}

/** The port ranges the passt in `net` was started with (its command line: -t / -u). */
function passtPortRanges(net: VethNetns): { pid: number; tcp: string | null; udp: string | null } {
  for (const pid of net.pids()) {
    let argv: string[];
    try {
      if (!/^passt/.test(fs.readFileSync(`/proc/${pid}/comm`, 'utf8'))) continue;
      argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const after = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1]! : null);
    return { pid, tcp: after('-t'), udp: after('-u') };
  }
  throw new Error(`no passt process in network namespace ${net.name}`);
}

interface Pod {
  rt: Runtime;
  id: string;
  net: VethNetns;
}

function series(runc: number[], vessel: number[]) {
  const mibs = (ms: number[]) => ms.map((t) => round(TRANSFER_MIB / (t / 1000), 1));
  const r = mibs(runc);
  const v = mibs(vessel);
  const m = { runc: median(r), vessel: median(v) };
  return {
    runcMiBs: r,
    vesselMiBs: v,
    runcMedianMiBs: round(m.runc, 1),
    vesselMedianMiBs: round(m.vessel, 1),
    ratioVesselOverRunc: round(m.vessel / m.runc, 3),
    ...roundRatios(v, r, 3),
  };
}

async function main(): Promise<void> {
  await ensureDefaultImage();
  checkInterrupted();
  const c = await startContainerd({ shimBins: { 'containerd-shim-vessel-v2': shimLauncher() } });
  const pods: Pod[] = [];
  const bundle = (id: string) => path.join(c.dir, 'state', 'io.containerd.runtime.v2.task', NAMESPACE, id);
  // What a vessel shim keeps outside the bundle; the VM state dir is known only while the bundle exists.
  let vesselOutside: { socket: string; vmDir?: string } | undefined;
  try {
    const work = path.join(c.dir, 'image');
    fs.mkdirSync(work);
    const img = await buildOciImage(work, { name: IMAGE });
    const imported = await c.ctr(['images', 'import', img.tarPath]);
    if (imported.code !== 0) throw new Error(`ctr images import: ${imported.stderr}`);

    const startPod = async (rt: Runtime, subnet: string): Promise<{ pod: Pod; readyMs: number }> => {
      const tag = `${process.pid}${rt[0]}`;
      const pod: Pod = { rt, id: `pn${tag}`, net: new VethNetns(`vessel-bench${tag}`, `vb${tag}`, subnet) };
      pods.push(pod);
      pod.net.create();
      if (rt === 'vessel') vesselOutside = { socket: shimSocketPath(NAMESPACE, pod.id) };
      const flags = rt === 'vessel' ? ['--fifo-dir', path.join(c.dir, 'fifo')] : c.runcFlags();
      const cri = ['--annotation', 'io.kubernetes.cri.container-type=sandbox', '--annotation', `io.kubernetes.cri.sandbox-id=${pod.id}`];
      const t0 = performance.now();
      const r = await runCtr(
        c,
        ['run', '-d', '--runtime', RUNTIMES[rt], ...flags, ...cri, '--with-ns', `network:${pod.net.path}`, IMAGE, pod.id, 'sh', '-c', POD_SCRIPT],
        CTR_TIMEOUT_MS,
      );
      if (vesselOutside && rt === 'vessel') vesselOutside.vmDir = existingVmStateDir(bundle(pod.id));
      if (r.code !== 0) throw ctrFailure(c, `ctr run -d (${rt}) ${pod.id}`, r);
      await waitReady(pod.net, `the ${rt} pod at ${pod.net.podIp}`);
      return { pod, readyMs: performance.now() - t0 };
    };

    // Subnets from the PID, so concurrent runs do not share one (the veth names carry it too).
    const third = (process.pid % 120) * 2;
    const runc = await startPod('runc', `10.232.${third}`);
    const vessel = await startPod('vessel', `10.232.${third + 1}`);
    const passt = passtPortRanges(vessel.pod.net);

    const payload = Buffer.alloc(TRANSFER_MIB * MIB);
    const measure = (pod: Pod, kind: 'download' | 'upload'): Promise<number> => {
      checkInterrupted();
      const t =
        kind === 'download'
          ? download(`http://${pod.net.podIp}:${HTTP_PORT}/blob`, payload.length, transferOptions())
          : upload(pod.net.podIp, SINK_PORT, payload, transferOptions());
      return t.catch((err: unknown) => {
        checkInterrupted(); // a signal's abort, not the transfer's failure
        throw new Error(`${kind} (${pod.rt}, ${pod.net.podIp}): ${String(err)}`);
      });
    };
    for (const kind of ['download', 'upload'] as const) {
      await measure(runc.pod, kind); // warm-up: page cache, TCG's translated code, TCP windows
      await measure(vessel.pod, kind);
    }
    const ms = { download: { runc: [] as number[], vessel: [] as number[] }, upload: { runc: [] as number[], vessel: [] as number[] } };
    for (let i = 0; i < ROUNDS; i++) {
      for (const kind of ['download', 'upload'] as const) {
        ms[kind].runc.push(await measure(runc.pod, kind));
        ms[kind].vessel.push(await measure(vessel.pod, kind));
      }
    }

    printFigure({
      figure: 'pod-network',
      transfer: `${TRANSFER_MIB} MiB over one TCP connection, host ↔ pod IP across a veth pair`,
      download: { how: 'HTTP GET from busybox httpd in the pod (file in /tmp)', ...series(ms.download.runc, ms.download.vessel) },
      upload: {
        how: 'to busybox nc -ll -e dd of=/dev/null bs=1M iflag=fullblock, until dd reports every block read',
        ...series(ms.upload.runc, ms.upload.vessel),
      },
      podReadyMs: { runc: Math.round(runc.readyMs), vessel: Math.round(vessel.readyMs) },
      containerd: (await c.ctr(['version'])).stdout.match(/Server:[\s\S]*?Version:\s*(\S+)/)?.[1] ?? 'unknown',
      accel: chooseAccelerator().accelerator, // what the shim's QemuManager picks (VESSEL_ACCEL honoured)
      vm: { cpus: DEFAULT_CPUS, memoryMiB: DEFAULT_RAM_MIB },
      // The live passt's -t/-u, and what forwardedPorts() gives under this process's limit (the shim inherits it through containerd).
      passtPorts: { tcp: passt.tcp, udp: passt.udp },
      forwardedPorts: { ...forwardedPorts(), openFilesHardLimit: openFilesHardLimit() },
      rounds: ROUNDS,
      warmup: 1,
      loadAvg1m: round(os.loadavg()[0]!, 2),
      note: 'informative, no goal',
    });
  } finally {
    try {
      await cleanUp(
        c,
        async () => pods.map((p) => p.id),
        () => (vesselOutside ? [vesselOutside] : []),
      );
    } finally {
      for (const { net } of pods) net.remove();
    }
  }
}

await runBench('pod-network', main);
