// vessel's own logs: silent unless asked (--debug), then pino JSON lines on stderr.
import type { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

export function cliLogger(debug: boolean, stderr: Writable): Logger {
  if (!debug) return pino({ level: 'silent' });
  return pino({ level: 'debug', base: { pid: process.pid } }, stderr);
}
