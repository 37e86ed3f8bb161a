// gRPC calls of bench/soak, each with an end: unary calls with a deadline, and one Exec that
// pipes bytes in as stdin messages (honouring the call's backpressure; the half-close is
// stdin's EOF) and hashes the stdout messages as they come, so 16 MiB each way never sit in
// memory.
import crypto from 'node:crypto';
import { once } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import { callEnded } from './grpc-common.js';
import { bounded } from './soak-wait.js';

/** A unary call the daemon must answer within `ms` (gRPC deadline, and the bench's own bound). */
export function callWithin<T = any>(client: any, method: string, request: Record<string, unknown>, ms: number): Promise<T> {
  const answered = new Promise<T>((resolve, reject) =>
    client[method](request, { deadline: new Date(Date.now() + ms) }, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res))),
  );
  return bounded(answered, ms + 5_000, `${method} ${JSON.stringify(request).slice(0, 120)}`);
}

export interface PipedExec {
  exitCode: number | undefined;
  signal: number | undefined;
  stdoutBytes: number;
  stdoutSha256: string;
  /** The first 4 KiB of stderr. */
  stderr: string;
  ms: number;
}

/** Runs `args` in the instance through Exec with `input` as its stdin, until the call ends OK. */
export async function execPiped(rpc: any, instanceId: string, args: string[], input: Iterable<Buffer>, timeoutMs: number): Promise<PipedExec> {
  const t0 = performance.now();
  const call: grpc.ClientDuplexStream<any, any> = rpc.Exec();
  const ended = callEnded(call);
  ended.catch(() => undefined);
  const hash = crypto.createHash('sha256');
  const out: PipedExec = { exitCode: undefined, signal: undefined, stdoutBytes: 0, stdoutSha256: '', stderr: '', ms: 0 };
  call.on('data', (m: { msg: string; stdout?: Buffer; stderr?: Buffer; exit?: { exitCode: number; signal: number } }) => {
    if (m.msg === 'stdout') {
      hash.update(m.stdout!);
      out.stdoutBytes += m.stdout!.length;
    } else if (m.msg === 'stderr' && out.stderr.length < 4096) out.stderr += m.stderr!.toString();
    else if (m.msg === 'exit') ({ exitCode: out.exitCode, signal: out.signal } = m.exit!);
  });
  let done = false;
  try {
    await bounded(
      (async () => {
        call.write({ start: { instanceId, args, stdin: true } });
        for (const chunk of input) {
          if (!call.write({ stdin: chunk })) await Promise.race([once(call, 'drain'), ended]);
        }
        call.end();
        await ended;
      })(),
      timeoutMs,
      `Exec ${args.join(' ')} on ${instanceId}`,
    );
    done = true;
  } finally {
    if (!done) call.cancel();
  }
  out.stdoutSha256 = hash.digest('hex');
  out.ms = performance.now() - t0;
  return out;
}
