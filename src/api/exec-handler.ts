// Instance.Exec: one guest process per call. The first client message starts it; stdout
// and stderr come back as messages (or ride raw streams the client opened with
// StartStream); stdin arrives as messages (with backpressure: the call is paused while the
// guest stream is full) and a client half-close is the process's stdin EOF. The call ends
// with the exit status once the output is drained (oom_killed: the guest's OOM killer ended
// it). A client that goes away before the exit gets its process group killed.
import { execWithStreams, newExecId, type GuestExec } from '../agent/index.js';
import { VesselError } from '../errors/index.js';
import type { OneofCase, vmv1 } from '../gen/index.js';
import { failer } from './call-errors.js';
import { onceMessage, onMessage } from './client-messages.js';
import type { InstanceRegistry } from './registry.js';
import { pumpToCall } from './pump.js';
import { vmFailureOr } from './vm-failure.js';
import type { Instance } from '../vm/index.js';

const SIGKILL = 9;

export function execHandler(registry: InstanceRegistry): vmv1.InstanceHandlers['Exec'] {
  return (call) => {
    const fail = failer(call);
    let exec: GuestExec | undefined;
    let inst: Instance | undefined;
    let running = false;
    let abandoned = false;
    const abandon = () => {
      abandoned = true;
      if (running && exec) exec.signal(SIGKILL, true).catch(() => undefined);
      running = false;
      exec?.close();
    };
    call.on('cancelled', abandon);
    call.on('error', abandon);
    onceMessage(call, (first) => {
      call.pause();
      void (async () => {
        if (first.msg !== 'start' || !first.start) throw new VesselError('INVALID_ARGUMENT', 'the first Exec message must be `start`');
        const s = first.start;
        if (s.args.length === 0) throw new VesselError('INVALID_ARGUMENT', 'start.args must name a program');
        inst = registry.get(s.instanceId).instance;
        // Output the client did not send to a stream of its own comes back as messages.
        const ex = await execWithStreams(
          inst.client(),
          {
            execId: newExecId('grpc'),
            args: s.args,
            env: s.env,
            cwd: s.cwd,
            uid: s.uid,
            gid: s.gid,
            terminal: s.tty,
            rows: s.rows,
            cols: s.cols,
          },
          {
            stdout: s.stdoutStream ? { id: s.stdoutStream } : 'open',
            ...(s.stderrStream ? { stderr: { id: s.stderrStream } } : s.tty ? {} : { stderr: 'open' as const }),
            ...(s.stdinStream ? { stdin: { id: s.stdinStream } } : s.stdin ? { stdin: 'open' as const } : {}),
          },
        );
        exec = ex;
        running = true;
        if (abandoned || call.cancelled) return abandon();
        call.write({ started: { execId: ex.execId, pid: ex.pid } });
        const drained: Promise<unknown>[] = [];
        if (ex.stdout) drained.push(pumpToCall(ex.stdout, call, (c): vmv1.ExecResponse => ({ stdout: c })));
        if (ex.stderr) drained.push(pumpToCall(ex.stderr, call, (c): vmv1.ExecResponse => ({ stderr: c })));
        const input = ex.stdin;
        let stdinClosed = false;
        const closeStdin = () => {
          if (stdinClosed) return;
          stdinClosed = true;
          if (input || s.stdinStream) ex.closeStdin().catch(() => undefined);
        };
        onMessage(call, (received) => {
          // proto-loader (oneofs: true, src/api/proto.ts) names the member that is set in
          // `msg`, and that member is present: OneofCase says so to the switch.
          const m = received as OneofCase<vmv1.ExecRequest__Output, 'msg'>;
          switch (m.msg) {
            case 'stdin':
              if (!input) return fail(new VesselError('INVALID_ARGUMENT', 'stdin messages need start.stdin = true (or send stdin on the stdin_stream)'));
              if (stdinClosed || !m.stdin.length) return;
              if (!input.write(m.stdin)) {
                call.pause();
                input.once('drain', () => call.resume());
              }
              return;
            case 'closeStdin':
              return closeStdin();
            case 'resize':
              ex.resize(m.resize.rows, m.resize.cols).catch(fail);
              return;
            case 'signal':
              ex.signal(m.signal).catch(fail);
              return;
            case 'signalGroup':
              ex.signal(m.signalGroup, true).catch(fail);
              return;
            default:
              return fail(new VesselError('INVALID_ARGUMENT', '`start` may only be the first Exec message'));
          }
        });
        // A half-close ends stdin sent as messages; a stdin_stream is the client's own to end.
        call.on('end', () => {
          if (input) closeStdin();
        });
        call.resume();
        const status = await ex.exited;
        await Promise.all(drained);
        running = false;
        for (const d of [ex.stdin, ex.stdout, ex.stderr]) d?.end();
        call.write({
          exit: { exitCode: status.exitCode, signal: status.signal, exitedAtUnixNano: status.exitedAtUnixNano.toString(), oomKilled: status.oomKilled },
        });
        call.end();
      })().catch(async (e: unknown) => {
        abandon();
        // a VM that died under the process: why it died
        fail(await vmFailureOr(inst, e));
      });
    });
  };
}
