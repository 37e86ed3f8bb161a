// Instance.Exec: one guest process per call. The first client message starts it; stdout
// and stderr come back as messages (or ride raw streams the client opened with
// StartStream); stdin arrives as messages (with backpressure: the call is paused while the
// guest stream is full) and a client half-close is the process's stdin EOF. The call ends
// with the exit status once the output is drained. A client that goes away before the
// exit gets its process group killed.
import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { Duplex } from 'node:stream';
import type { AgentClient } from '../agent/index.js';
import { VesselError } from '../errors/index.js';
import { failer } from './call-errors.js';
import type { InstanceRegistry } from './registry.js';
import { pumpToCall } from './pump.js';

interface ExecStart {
  instanceId: string; args: string[]; env: string[]; cwd: string; tty: boolean; rows: number; cols: number;
  uid: number; gid: number; stdinStream: string; stdoutStream: string; stderrStream: string; stdin: boolean;
}
interface ExecRequest {
  msg?: 'start' | 'stdin' | 'closeStdin' | 'resize' | 'signal' | 'signalGroup';
  start?: ExecStart; stdin?: Buffer; closeStdin?: boolean; resize?: { rows: number; cols: number }; signal?: number; signalGroup?: number;
}

const SIGKILL = 9;
let counter = 0;

export function execHandler(registry: InstanceRegistry) {
  return (call: ServerDuplexStream<ExecRequest, Record<string, unknown>>): void => {
    const fail = failer(call);
    const opened: Duplex[] = [];
    let agent: AgentClient | undefined;
    let execId = '';
    let running = false;
    const abandon = () => {
      if (running && agent) agent.signal(execId, SIGKILL, true).catch(() => undefined);
      running = false;
      for (const d of opened) d.destroy();
    };
    call.on('cancelled', abandon);
    call.on('error', abandon);
    call.once('data', (first: ExecRequest) => {
      call.pause();
      void (async () => {
        if (first.msg !== 'start' || !first.start) throw new VesselError('INVALID_ARGUMENT', 'the first Exec message must be `start`');
        const s = first.start;
        if (s.args.length === 0) throw new VesselError('INVALID_ARGUMENT', 'start.args must name a program');
        const inst = registry.get(s.instanceId).instance;
        agent = inst.client();
        execId = `grpc-${process.pid}-${++counter}`;
        const open = async (suffix: string): Promise<[Duplex, string]> => {
          const id = `${execId}:${suffix}`;
          const d = await inst.startStream(id);
          opened.push(d);
          return [d, id];
        };
        const none = async (id: string): Promise<[undefined, string]> => [undefined, id];
        // The guest streams are opened concurrently (each is a round trip to the guest).
        const [[out, stdoutStream], [err, stderrStream], [input, stdinStream]] = await Promise.all([
          s.stdoutStream ? none(s.stdoutStream) : open('out'),
          s.stderrStream || s.tty ? none(s.stderrStream) : open('err'),
          s.stdinStream ? none(s.stdinStream) : s.stdin ? open('in') : none(''),
        ]);
        if (call.cancelled) return abandon();
        const { pid } = await agent.exec({
          execId, args: s.args, env: s.env, cwd: s.cwd, uid: s.uid, gid: s.gid,
          terminal: s.tty, rows: s.rows, cols: s.cols, stdinStream, stdoutStream, stderrStream,
        });
        running = true;
        if (call.cancelled) return abandon();
        call.write({ started: { execId, pid } });
        const drained: Promise<unknown>[] = [];
        if (out) drained.push(pumpToCall(out, call, (c) => ({ stdout: c })));
        if (err) drained.push(pumpToCall(err, call, (c) => ({ stderr: c })));
        let stdinClosed = false;
        const closeStdin = () => {
          if (stdinClosed) return;
          stdinClosed = true;
          if (input) input.end();
          else if (s.stdinStream) agent!.closeStdin(execId).catch(() => undefined);
        };
        call.on('data', (m: ExecRequest) => {
          switch (m.msg) {
            case 'stdin':
              if (!input) return fail(new VesselError('INVALID_ARGUMENT', 'stdin messages need start.stdin = true (or send stdin on the stdin_stream)'));
              if (stdinClosed || !m.stdin?.length) return;
              if (!input.write(m.stdin)) { call.pause(); input.once('drain', () => call.resume()); }
              return;
            case 'closeStdin':
              return closeStdin();
            case 'resize':
              agent!.resizePty(execId, m.resize!.rows, m.resize!.cols).catch(fail);
              return;
            case 'signal':
              agent!.signal(execId, m.signal!).catch(fail);
              return;
            case 'signalGroup':
              agent!.signal(execId, m.signalGroup!, true).catch(fail);
              return;
            default:
              return fail(new VesselError('INVALID_ARGUMENT', '`start` may only be the first Exec message'));
          }
        });
        // A half-close ends stdin sent as messages; a stdin_stream is the client's own to end.
        call.on('end', () => { if (input) closeStdin(); });
        call.resume();
        const status = await agent.wait(execId);
        await Promise.all(drained);
        running = false;
        for (const d of opened) d.end();
        call.write({ exit: { exitCode: status.exitCode, signal: status.signal, exitedAtUnixNano: status.exitedAtUnixNano.toString() } });
        call.end();
      })().catch((e: unknown) => { abandon(); fail(e); });
    });
  };
}
