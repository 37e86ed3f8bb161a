// TtrpcServer: a registry of services plus the connections it serves.
import { chmod, lstat, unlink } from 'node:fs/promises';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { pino, type Logger } from 'pino';
import type protobuf from 'protobufjs';
import { VesselError } from '../errors/index.js';
import { MAX_MESSAGE_SIZE } from './frame.js';
import { methodKind, resolvedTypes, serviceName } from './protos.js';
import type { MethodEntry } from './server-call.js';
import { ServerConnection } from './server-connection.js';

export interface ServerOptions {
  logger?: Logger;
  /** Largest frame payload accepted or sent; default 4 MiB (ttrpc's limit). */
  maxMessageSize?: number;
  /** Calls whose handler is still running, per connection; beyond it RESOURCE_EXHAUSTED. Default 1024. */
  maxConcurrentCalls?: number;
}

function lowerFirst(name: string): string {
  return name.length === 0 ? name : name[0]!.toLowerCase() + name.slice(1);
}

export class TtrpcServer {
  private readonly services = new Map<string, Map<string, MethodEntry>>();
  private readonly connections = new Set<ServerConnection>();
  private readonly servers = new Set<net.Server>();
  private readonly logger: Logger;
  private readonly maxMessageSize: number;
  private readonly maxConcurrentCalls: number;
  private isClosed = false;

  constructor(options: ServerOptions = {}) {
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.maxMessageSize = options.maxMessageSize ?? MAX_MESSAGE_SIZE;
    this.maxConcurrentCalls = options.maxConcurrentCalls ?? 1024;
    if (!(this.maxMessageSize > 0) || !(this.maxConcurrentCalls > 0)) {
      throw new VesselError('INVALID_ARGUMENT', 'ttrpc: maxMessageSize and maxConcurrentCalls must be positive');
    }
  }

  /**
   * Serves `service` with the functions of `impl`, looked up by the proto method name
   * ('Echo') or its lowerCamel form ('echo'); the handler shape follows the method's
   * streaming kind (UnaryHandler, ServerStreamHandler, ... in types.ts; UnaryServer<S> types a
   * whole unary service). Methods without a function answer UNIMPLEMENTED.
   */
  register(service: protobuf.Service, impl: object): void {
    const name = serviceName(service);
    if (this.services.has(name)) {
      throw new VesselError('INVALID_ARGUMENT', `ttrpc: service ${name} already registered`);
    }
    const methods = new Map<string, MethodEntry>();
    for (const method of service.methodsArray) {
      const { requestType, responseType } = resolvedTypes(method);
      const fn: unknown = (impl as Record<string, unknown>)[method.name] ?? (impl as Record<string, unknown>)[lowerFirst(method.name)];
      methods.set(method.name, {
        path: `/${name}/${method.name}`,
        kind: methodKind(method),
        requestType,
        responseType,
        handler: typeof fn === 'function' ? (fn as (...args: unknown[]) => unknown) : undefined,
        thisArg: impl,
      });
    }
    this.services.set(name, methods);
  }

  /** Serves one connection (socket, yamux stream, any Duplex) until it closes. */
  serve(conn: Duplex): ServerConnection {
    const sc = new ServerConnection(conn, this.services, {
      logger: this.logger,
      maxMessageSize: this.maxMessageSize,
      maxConcurrentCalls: this.maxConcurrentCalls,
    });
    if (this.isClosed) {
      sc.close();
      return sc;
    }
    this.connections.add(sc);
    void sc.closed.then(() => this.connections.delete(sc));
    return sc;
  }

  /** Listens on a unix socket (mode 0600; a stale socket file at `path` is replaced). */
  async listen(path: string): Promise<net.Server> {
    if (this.isClosed) throw new VesselError('UNAVAILABLE', 'ttrpc: server closed');
    try {
      if ((await lstat(path)).isSocket()) await unlink(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const server = net.createServer((socket) => {
      this.serve(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.logger.error({ err }, 'ttrpc server: listener error'));
    try {
      await chmod(path, 0o600);
    } catch (err) {
      server.close();
      throw err;
    }
    this.servers.add(server);
    server.once('close', () => this.servers.delete(server));
    return server;
  }

  /** Stops listening and closes every connection (handlers see ctx.signal aborted). */
  async close(): Promise<void> {
    this.isClosed = true;
    const listening = [...this.servers].map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    const conns = [...this.connections];
    for (const c of conns) c.close();
    await Promise.all([...listening, ...conns.map((c) => c.closed)]);
  }
}
