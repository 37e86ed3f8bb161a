// How the daemon's client commands (ps, exec, logs, create, stop, rm) report failures:
// a daemon that cannot be reached says so and how to start one; a gRPC status becomes the
// daemon's message plus what to do about it. All of these are vessel failures: exit 125.
import { status as Status, type ServiceError } from '@grpc/grpc-js';
import type { Writable } from 'node:stream';
import { EXIT_VESSEL, reportError } from '../errors.js';

/** No daemon answers on the socket (no socket file, nobody listening, no permission). */
export class DaemonUnreachable extends Error {
  constructor(
    readonly socketPath: string,
    readonly reason: string,
  ) {
    super(`cannot reach the vessel daemon: ${reason}; is \`vessel serve\` running? socket ${socketPath}`);
    this.name = 'DaemonUnreachable';
  }
}

export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number' && 'details' in err;
}

/** The vessel error code the daemon sent as the `vessel-error-code` trailer, if any. */
export function vesselCode(err: ServiceError): string | undefined {
  const v = err.metadata?.get('vessel-error-code')[0];
  return typeof v === 'string' ? v : undefined;
}

/** What to do about a status, by code; `id` is the instance the command named. */
function hint(err: ServiceError, id: string | undefined): string | undefined {
  const it = id ? `instance ${id}` : 'the instance';
  switch (err.code) {
    case Status.NOT_FOUND:
      return '`vessel ps` lists the instances of this daemon';
    case Status.ALREADY_EXISTS:
      return 'choose another --id, or remove the old one with `vessel rm`';
    case Status.FAILED_PRECONDITION:
      return `\`vessel ps\` shows the state of ${it}; \`vessel create\` makes a started one`;
    case Status.UNAVAILABLE:
      return vesselCode(err) === undefined
        ? 'the connection to the daemon failed; check that `vessel serve` is still running'
        : `the guest of ${it} is not reachable: \`vessel ps\` shows whether it stopped or failed (and why); \`vessel rm\` removes it`;
    case Status.RESOURCE_EXHAUSTED:
      return 'remove instances you no longer need with `vessel rm`';
    case Status.DEADLINE_EXCEEDED:
      return 'the guest did not come up in time; the host may be overloaded (`vessel doctor` checks the accelerator)';
    case Status.INVALID_ARGUMENT:
      return undefined; // the daemon's message names the bad value
    default:
      return undefined;
  }
}

/**
 * Prints `err` for `what` and returns the exit code: 2 for usage errors (reportError), 125
 * for an unreachable daemon or a gRPC failure. Anything else is a bug and is rethrown.
 */
export function reportDaemonError(err: unknown, what: string, stderr: Writable, id?: string): number {
  if (err instanceof DaemonUnreachable) {
    stderr.write(`${what}: ${err.message}\n`);
    return EXIT_VESSEL;
  }
  if (isServiceError(err)) {
    const name = Status[err.code] ?? String(err.code);
    const h = hint(err, id);
    stderr.write(`${what}: ${name}: ${err.details}${h ? `\n  → ${h}` : ''}\n`);
    return EXIT_VESSEL;
  }
  return reportError(err, what, stderr);
}
