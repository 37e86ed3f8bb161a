// Exit codes of the `vessel` command and the one place errors become them. Conventions
// are docker's: 2 for a usage error, 125 when vessel itself failed, 126 when the command
// cannot be executed in the guest, 127 when it is not found there, else the command's own
// status (128+N when signal N ended it).
import type { Writable } from 'node:stream';
import { isVesselError } from '../errors/index.js';

export const EXIT_USAGE = 2;
export const EXIT_VESSEL = 125;
export const EXIT_CANNOT_EXECUTE = 126;
export const EXIT_NOT_FOUND = 127;

/** A bad flag or argument: the message is printed with the command's usage, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The exit for a vessel error code when the guest could not start the command: 127 or 126, as a shell does. */
export function commandFailureExit(code: string | undefined): number | undefined {
  if (code === 'COMMAND_NOT_FOUND') return EXIT_NOT_FOUND;
  if (code === 'COMMAND_NOT_EXECUTABLE') return EXIT_CANNOT_EXECUTE;
  return undefined;
}

/** The guest could not start the command (the agent's Exec failed): 126 or 127. */
export function execFailureExit(err: unknown): number | undefined {
  return isVesselError(err) ? commandFailureExit(err.code) : undefined;
}

/** Exit status of a guest process: its code, or 128+N when signal N ended it. */
export function statusExit(status: { exitCode: number; signal: number }): number {
  return status.signal > 0 ? 128 + status.signal : status.exitCode;
}

/** statusExit, first saying on `stderr` when the guest's OOM killer ended `command` (exit 137). */
export function guestExit(status: { exitCode: number; signal: number; oomKilled?: boolean }, what: string, command: string, stderr: Writable): number {
  if (status.oomKilled) stderr.write(`${what}: ${command}: killed by the guest's OOM killer (out of memory)\n`);
  return statusExit(status);
}

/**
 * Prints `err` for `what` (e.g. "vessel run") and returns the exit code: usage errors 2,
 * vessel's own failures 125. Anything else is a bug and is rethrown.
 */
export function reportError(err: unknown, what: string, stderr: Writable, usage?: string): number {
  if (err instanceof UsageError) {
    stderr.write(`${what}: ${err.message}\n${usage ? `\n${usage}` : `See '${what} --help'.\n`}`);
    return EXIT_USAGE;
  }
  if (isVesselError(err)) {
    stderr.write(`${what}: ${err.code}: ${err.message}\n`);
    return EXIT_VESSEL;
  }
  throw err;
}
