// Session options and their defaults (mirroring hashicorp/yamux DefaultConfig where it has one).

import { pino, type Logger } from 'pino';
import { VesselError } from '../errors/index.js';
import { INITIAL_STREAM_WINDOW } from './frame.js';

export interface SessionOptions {
  /** client opens odd stream ids (1,3,5..), server even (2,4,..) */
  role: 'client' | 'server';
  /** max concurrently open streams (both directions), default 1024 */
  maxStreams?: number;
  /** max receive window per stream in bytes, default 256 KiB, never below 256 KiB */
  maxWindow?: number;
  /** inbound streams waiting for accept(), default 256; beyond it the new stream is RST */
  acceptBacklog?: number;
  /** 0/undefined = no keepalive pings */
  keepaliveIntervalMs?: number;
  /** a ping unanswered this long declares the peer dead (default 10 s, Go's write timeout) */
  keepaliveTimeoutMs?: number;
  /** after local end() with no FIN from the peer: RST (default 5 min); 0 = never */
  streamCloseTimeoutMs?: number;
  logger?: Logger;
}

export interface ResolvedOptions {
  client: boolean;
  maxStreams: number;
  maxWindow: number;
  acceptBacklog: number;
  keepaliveIntervalMs: number;
  keepaliveTimeoutMs: number;
  streamCloseTimeoutMs: number;
  logger: Logger;
}

let silentLogger: Logger | undefined;

function positiveInt(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new VesselError('INVALID_ARGUMENT', `mux option ${name} must be an integer >= ${min}, got ${value}`);
  }
  return value;
}

export function resolveOptions(options: SessionOptions): ResolvedOptions {
  if (options.role !== 'client' && options.role !== 'server') {
    throw new VesselError('INVALID_ARGUMENT', `mux option role must be 'client' or 'server'`);
  }
  const maxWindow = positiveInt('maxWindow', options.maxWindow, INITIAL_STREAM_WINDOW, INITIAL_STREAM_WINDOW);
  if (maxWindow > 0xffffffff) {
    throw new VesselError('INVALID_ARGUMENT', 'mux option maxWindow must fit in 32 bits');
  }
  return {
    client: options.role === 'client',
    maxStreams: positiveInt('maxStreams', options.maxStreams, 1024, 1),
    maxWindow,
    acceptBacklog: positiveInt('acceptBacklog', options.acceptBacklog, 256, 1),
    keepaliveIntervalMs: positiveInt('keepaliveIntervalMs', options.keepaliveIntervalMs, 0, 0),
    keepaliveTimeoutMs: positiveInt('keepaliveTimeoutMs', options.keepaliveTimeoutMs, 10_000, 1),
    streamCloseTimeoutMs: positiveInt('streamCloseTimeoutMs', options.streamCloseTimeoutMs, 5 * 60_000, 0),
    logger: options.logger ?? (silentLogger ??= pino({ level: 'silent' })),
  };
}
