// The shared body of the gRPC interop suites: a real VesselDaemon in this process on a
// private unix socket, a host directory to share, one run of a client in another language
// (which boots one VM through the API and prints a JSON report), then the checks of that
// report against expectations.ts. The client only observes; every judgement is here.
import { execFile } from 'node:child_process';
import { QemuManager } from '../../src/vm/index.js';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VesselDaemon } from '../../src/api/index.js';
import { testCpuModel } from '../support/test-vm.js';
import { makePrivateTempDir } from '../support/tmpdir.js';
import { ERROR_CASES, SERVICE_METHODS, type SuiteParams } from './expectations.js';

export const STREAM_BYTES = 16 << 20;

export interface ClientArgs {
  socket: string;
  share: string;
  tag: string;
  file: string;
  instance: string;
  bytes: number;
}

export interface ClientCommand {
  file: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

export type Report = Record<string, any>;

/** Runs a program to completion; rejects with its stderr when it fails. */
export function run(
  file: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: opts.cwd, env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 300_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

/**
 * Registers the interop suite for one language. `prepare` runs first (stub generation,
 * build) and returns how to run the client with the given arguments.
 */
export function interopSuite(language: string, prepare: (tmpDir: string) => Promise<(a: ClientArgs) => ClientCommand>): void {
  describe(`gRPC interop: ${language} client against VesselDaemon`, () => {
    let tmp: { dir: string; remove: () => Promise<void> };
    let daemon: VesselDaemon;
    let report: Report;
    let clientStderr = '';
    const fileContent = `hello from the host to ${language} ${crypto.randomBytes(4).toString('hex')}\n`;
    const params: SuiteParams = { instanceId: `interop-${language}`, share: '', tag: 'data', dupStreamId: `${language === 'python' ? 'py' : language}-dup` };
    let instancesDir = '';

    beforeAll(async () => {
      tmp = await makePrivateTempDir(`grpc-${language}`);
      const command = await prepare(tmp.dir);
      params.share = path.join(tmp.dir, 'share');
      fs.mkdirSync(params.share);
      fs.writeFileSync(path.join(params.share, 'hello.txt'), fileContent);
      instancesDir = path.join(tmp.dir, 'instances');
      daemon = new VesselDaemon({ socketPath: path.join(tmp.dir, 'vessel.sock'), instancesDir, manager: new QemuManager({ cpuModel: testCpuModel() }) });
      await daemon.listen();
      const c = command({
        socket: daemon.socketPath,
        share: params.share,
        tag: params.tag,
        file: 'hello.txt',
        instance: params.instanceId,
        bytes: STREAM_BYTES,
      });
      const out = await run(c.file, c.args, { env: c.env ?? process.env });
      clientStderr = out.stderr;
      const lines = out.stdout.trim().split('\n');
      report = JSON.parse(lines[lines.length - 1]!) as Report;
      // For a look at the raw observations (messages, timings): VESSEL_INTEROP_REPORT_DIR=dir.
      const dumpDir = process.env.VESSEL_INTEROP_REPORT_DIR;
      if (dumpDir) fs.writeFileSync(path.join(dumpDir, `grpc-interop-${language}.json`), `${JSON.stringify(report, null, 2)}\n`);
    }, 900_000);

    afterAll(async () => {
      await daemon?.stop();
      await tmp?.remove();
    }, 120_000);

    it('the client ran to the end and is the expected language', () => {
      expect(report.language, clientStderr).toBe(language);
    });

    it('reflection lists vessel.vm.v1.Manager and Instance with every method', () => {
      const r = report.reflection as { services: string[]; methods: Record<string, string[]> };
      for (const [svc, methods] of Object.entries(SERVICE_METHODS)) {
        expect(r.services).toContain(svc);
        expect([...r.methods[svc]!].sort()).toEqual([...methods].sort());
      }
    });

    it('health answers SERVING for the server and both services', () => {
      expect(report.health).toEqual({ '': 'SERVING', 'vessel.vm.v1.Manager': 'SERVING', 'vessel.vm.v1.Instance': 'SERVING' });
    });

    it('CreateInstance, AddFS and Start: the instance runs with the share', () => {
      expect(report.created).toMatchObject({ id: params.instanceId, state: 'STATE_CREATED' });
      expect(report.started.state).toBe('STATE_RUNNING');
      expect(report.started.shares).toEqual([params.tag]);
      expect(report.started.guestTimeline.length).toBeGreaterThan(0);
    });

    it('Exec `cat /mnt/<tag>/hello.txt` returns the host file on stdout and exit 0', () => {
      expect(report.catFile).toMatchObject({ stdout: fileContent, stderr: '', exitCode: 0 });
      expect(report.catFile.pid).toBeGreaterThan(1);
    });

    it(`StartStream + Exec \`cat\` on that stream (stdin and stdout): ${STREAM_BYTES >> 20} MiB back intact`, () => {
      const b = report.bigStream;
      expect(b.error, 'stream call error').toBeUndefined();
      expect(b.exec, 'exec of cat').toEqual({ exitCode: 0 });
      expect(b.sent).toBe(STREAM_BYTES);
      expect(b.received).toBe(STREAM_BYTES);
      expect(b.receivedCrc32).toBe(b.sentCrc32);
      expect(b.receivedSha256).toBe(b.sentSha256);
    });

    it('a stream refused as a duplicate leaves the first one working', () => {
      expect(report.heldStream).toMatchObject({ startedFirst: 'started', echoed: 'bye\n', exitCodes: [0] });
    });

    it.each(Object.keys(ERROR_CASES))('error case %s: the right code and a message that says what is wrong', (name) => {
      const want = ERROR_CASES[name]!;
      const got = report.errors[name] as { code: string; message: string } | undefined;
      expect(got, `the client did not report ${name}`).toBeDefined();
      expect(got!.code, got!.message).toBe(want.code);
      expect(got!.message.trim().length).toBeGreaterThan(0);
      for (const s of want.says(params)) {
        if (typeof s === 'string') expect(got!.message).toContain(s);
        else expect(got!.message).toMatch(s);
      }
    });

    it('Shutdown stops the instance; DeleteInstance removes it and its state', () => {
      expect(report.listed).toEqual([[params.instanceId, 'STATE_RUNNING']]);
      expect(report.afterShutdown).toBe('STATE_STOPPED');
      expect(report.listedAfterDelete).toEqual([]);
      expect(daemon.registry.list()).toEqual([]);
      expect(fs.readdirSync(instancesDir)).toEqual([]);
    });
  });
}
