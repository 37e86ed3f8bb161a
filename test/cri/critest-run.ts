// critest v1.34.0 against the CRI harness's containerd (test/support/cri.ts), once per runtime
// handler (runc first: the baseline of the same run), each in a fresh harness with a local
// registry holding critest's stand-in images (test/support/cri/critest-images.ts) behind the
// CRI plugin's registry mirrors. Run through scripts/critest.sh, which builds critest and the
// registry first. Prints one JSON object: per handler pass/fail/skip and the failing specs,
// and the specs that pass under runc but fail under vessel. Each handler's critest log and
// JUnit report stay in --out (default .critest-out/<time>/<handler>/).
//
//   node dist/test/cri/critest-run.js [--handlers runc,vessel] [--focus RE] [--skip RE] [--out DIR]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chooseAccelerator } from '../../src/vm/qemu/index.js';
import { startCri } from '../support/cri.js';
import { pushCritestImages } from '../support/cri/critest-images.js';
import { countSpecs, parseJunit, type SpecCounts, type SpecResult } from '../support/cri/junit.js';
import { startRegistry } from '../support/cri/registry.js';
import { repoRoot } from '../support/repo.js';

const CRITEST = path.join(repoRoot, '.interop-bin', 'critest');
const CRITEST_VERSION = 'v1.34.0';

const { values } = parseArgs({
  options: {
    handlers: { type: 'string', default: 'runc,vessel' },
    focus: { type: 'string' },
    skip: { type: 'string' },
    out: { type: 'string' },
    'ginkgo-timeout': { type: 'string', default: '6h' },
  },
  strict: true,
});
const handlers = values.handlers.split(',').filter(Boolean);
const out = path.resolve(values.out ?? path.join(repoRoot, '.critest-out', new Date().toISOString().replace(/[:.]/g, '-')));

interface HandlerRun extends SpecCounts {
  durationS: number;
  junit: string;
  log: string;
}

function runCritest(args: string[], logFile: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const log = fs.openSync(logFile, 'w');
    const p = spawn(CRITEST, args, { env, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    p.once('error', reject);
    p.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? 15 : 0)));
  });
}

async function runHandler(handler: string): Promise<{ run: HandlerRun; specs: SpecResult[] }> {
  const dir = path.join(out, handler);
  fs.mkdirSync(dir, { recursive: true });
  const registry = await startRegistry();
  try {
    const url = `http://${registry.host}`;
    const h = await startCri({ mirrors: { 'registry.k8s.io': url, 'gcr.io': url } });
    try {
      process.stderr.write(`critest: ${handler}: pushing stand-in images to ${registry.host}\n`);
      await pushCritestImages(h.containerd, registry.host, path.join(h.dir, 'critest-images'));
      const junit = path.join(dir, 'junit.xml');
      const log = path.join(dir, 'critest.log');
      const args = [
        `-runtime-endpoint=${h.endpoint}`,
        `-image-endpoint=${h.endpoint}`,
        `-runtime-handler=${handler}`,
        `-config=${path.join(h.dir, 'crictl.yaml')}`,
        '-runtime-service-timeout=300s',
        '-ginkgo.no-color',
        `-ginkgo.timeout=${values['ginkgo-timeout']}`,
        `-ginkgo.junit-report=${junit}`,
        ...(values.focus ? [`-ginkgo.focus=${values.focus}`] : []),
        ...(values.skip ? [`-ginkgo.skip=${values.skip}`] : []),
      ];
      process.stderr.write(`critest: ${handler}: running (log: ${log})\n`);
      const t0 = Date.now();
      const code = await runCritest(args, log, h.containerd.env);
      const durationS = Math.round((Date.now() - t0) / 1000);
      if (!fs.existsSync(junit)) throw new Error(`critest (${handler}) exited ${code} without a JUnit report; see ${log}`);
      const specs = parseJunit(fs.readFileSync(junit, 'utf8'));
      fs.writeFileSync(path.join(dir, 'containerd.log'), h.logTail());
      return { run: { ...countSpecs(specs), durationS, junit, log }, specs };
    } finally {
      await h.stop();
    }
  } finally {
    await registry.stop();
  }
}

async function main(): Promise<void> {
  if (!fs.existsSync(CRITEST)) throw new Error(`${CRITEST} is missing: run scripts/critest.sh (it builds critest ${CRITEST_VERSION})`);
  fs.mkdirSync(out, { recursive: true });
  const results: Record<string, HandlerRun> = {};
  const byHandler: Record<string, SpecResult[]> = {};
  for (const handler of handlers) {
    const r = await runHandler(handler);
    results[handler] = r.run;
    byHandler[handler] = r.specs;
    process.stderr.write(`critest: ${handler}: ${r.run.pass} passed, ${r.run.fail} failed, ${r.run.skip} skipped in ${r.run.durationS} s\n`);
  }
  const passed = (h: string) => new Set((byHandler[h] ?? []).filter((s) => s.status === 'passed').map((s) => s.name));
  const regressions =
    byHandler.runc && byHandler.vessel
      ? Object.fromEntries(
          byHandler.vessel.filter((s) => passed('runc').has(s.name) && s.status !== 'passed').map((s) => [s.name, s.message ?? s.status] as [string, string]),
        )
      : undefined;
  const figure = {
    figure: 'critest',
    critest: CRITEST_VERSION,
    accel: chooseAccelerator().accelerator,
    focus: values.focus ?? null,
    skip: values.skip ?? null,
    results,
    ...(regressions ? { passUnderRuncFailUnderVessel: regressions, regressionCount: Object.keys(regressions).length } : {}),
    out,
  };
  fs.writeFileSync(path.join(out, 'summary.json'), `${JSON.stringify(figure, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(figure)}\n`);
}

try {
  await main();
} catch (err) {
  process.stderr.write(`critest: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
}
