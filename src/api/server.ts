// VesselDaemon: the gRPC server of `vessel serve`. Listens on a unix socket (0600, in a
// 0700 directory; with a socket group 0660 owned by it) and, only when asked, on TCP with
// mutual TLS. Serves vessel.vm.v1.Manager and Instance, gRPC reflection and health; the
// host paths AddFS and AddDisk may name follow its PathPolicy (by default none when it
// serves TCP, any otherwise). listen() first takes over what a previous daemon on the same
// instances dir left (registry restore(): VMs re-attached with live restore, the rest
// cleared). stop(): stop accepting, shut every VM down, close.
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import pino, { type Logger } from 'pino';
import { VesselError } from '../errors/index.js';
import { unreachableBy, vesselHome } from '../host/index.js';
import type { Manager } from '../vm/index.js';
import { instanceService } from './instance-service.js';
import { managerService } from './manager-service.js';
import { PathPolicy } from './path-policy.js';
import { vmPackageDefinition } from './proto.js';
import { reflectionService } from './reflection.js';
import { InstanceRegistry } from './registry.js';

export interface TlsOptions {
  certPath: string;
  keyPath: string;
  /** Clients must present a certificate this CA signed (TCP is served only with mutual TLS). */
  caPath: string;
}

export interface DaemonOptions {
  /** Unix socket path; default $VESSEL_HOME/vessel.sock. */
  socketPath?: string;
  /** host:port; requires tls. */
  tcpAddress?: string;
  tls?: TlsOptions;
  /** The gid that owns the unix socket, which is then 0660 (docker's model); else it is 0600. */
  socketGid?: number;
  /** Which host paths AddFS and AddDisk may name; default PathPolicy.none() with TCP, else any(). */
  pathPolicy?: PathPolicy;
  /** Where instance state dirs go; default $VESSEL_HOME/daemon/instances. */
  instancesDir?: string;
  maxInstances?: number;
  /** The VM backend (built once by the entry point). */
  manager: Manager;
  logger?: Logger;
}

export const SERVICES = ['vessel.vm.v1.Manager', 'vessel.vm.v1.Instance'] as const;

export class VesselDaemon {
  readonly socketPath: string;
  readonly registry: InstanceRegistry;
  readonly pathPolicy: PathPolicy;
  private readonly server: grpc.Server;
  private readonly health: HealthImplementation;
  private readonly logger: Logger;
  private tcpPort: number | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly opts: DaemonOptions) {
    this.logger = opts.logger ?? pino({ level: 'silent' });
    this.socketPath = path.resolve(opts.socketPath ?? path.join(vesselHome(), 'vessel.sock'));
    this.registry = new InstanceRegistry(opts.manager, opts.instancesDir ?? path.join(vesselHome(), 'daemon', 'instances'), opts.maxInstances);
    const pkg = grpc.loadPackageDefinition(vmPackageDefinition()) as unknown as {
      vessel: { vm: { v1: { Manager: grpc.ServiceClientConstructor; Instance: grpc.ServiceClientConstructor } } };
    };
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': 8 * 1024 * 1024,
      'grpc.max_send_message_length': 8 * 1024 * 1024,
    });
    this.server.addService(pkg.vessel.vm.v1.Manager.service, managerService(this.registry));
    this.pathPolicy =
      opts.pathPolicy ??
      (opts.tcpAddress ? PathPolicy.none('this daemon serves TCP and was started without --allow-path, so it shares no host path') : PathPolicy.any());
    this.server.addService(pkg.vessel.vm.v1.Instance.service, instanceService(this.registry, this.pathPolicy));
    // Reflection describes everything served here (vessel.vm.v1, grpc.health.v1) as protoc compiled it.
    reflectionService().addToServer(this.server);
    this.health = new HealthImplementation({ '': 'SERVING', ...Object.fromEntries(SERVICES.map((s) => [s, 'SERVING'])) });
    this.health.addToServer(this.server);
  }

  /** Binds the unix socket (and TCP+TLS if configured). */
  async listen(): Promise<void> {
    const dir = path.dirname(this.socketPath);
    const gid = this.opts.socketGid;
    if (!fs.existsSync(dir)) {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      // A directory made for a group's socket lets the group search it (and no more).
      if (gid !== undefined) {
        fs.chownSync(dir, -1, gid);
        fs.chmodSync(dir, 0o710);
      }
    }
    if (fs.existsSync(this.socketPath)) {
      if (await this.socketAnswers()) throw new VesselError('ALREADY_EXISTS', `another vessel daemon is serving ${this.socketPath}`);
      fs.rmSync(this.socketPath, { force: true });
    }
    const previous = process.umask(0o177);
    try {
      await this.bind(`unix:${this.socketPath}`, grpc.ServerCredentials.createInsecure());
    } finally {
      process.umask(previous);
    }
    if (gid === undefined) fs.chmodSync(this.socketPath, 0o600);
    else {
      fs.chownSync(this.socketPath, -1, gid);
      fs.chmodSync(this.socketPath, 0o660);
      const blocked = unreachableBy(gid, dir);
      if (blocked) this.logger.warn({ gid, dir: blocked }, 'the socket group cannot reach the socket: it may not search this directory');
    }
    const restored = await this.registry.restore();
    for (const id of restored.attached) {
      const m = this.registry.get(id);
      if (m.instance.state() === 'running') this.logger.info({ id }, 're-attached an instance a previous daemon left running');
      else
        this.logger.error(
          { id, state: m.instance.state(), err: m.instance.failure()?.message },
          'could not re-attach an instance a previous daemon left running',
        );
    }
    for (const { id, why } of restored.removed) this.logger.info({ id, why }, 'removed a state dir a previous daemon left behind');
    if (this.opts.tcpAddress) {
      const tls = this.opts.tls;
      if (!tls?.caPath)
        throw new VesselError('INVALID_ARGUMENT', 'TCP listening needs mutual TLS: give a certificate, its key, and the CA that signs client certificates');
      const creds = grpc.ServerCredentials.createSsl(
        fs.readFileSync(tls.caPath),
        [{ cert_chain: fs.readFileSync(tls.certPath), private_key: fs.readFileSync(tls.keyPath) }],
        true,
      );
      this.tcpPort = await this.bind(this.opts.tcpAddress, creds);
    }
    this.logger.info({ socket: this.socketPath, socketGid: gid, tcpPort: this.tcpPort, allowedPaths: this.pathPolicy.describe() }, 'vessel daemon listening');
  }

  get boundTcpPort(): number | undefined {
    return this.tcpPort;
  }

  /** Stops accepting calls, shuts every VM down, then closes the server. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.health.setStatus('', 'NOT_SERVING');
      for (const s of SERVICES) this.health.setStatus(s, 'NOT_SERVING');
      const drained = new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
      await this.registry.shutdownAll();
      // Streaming calls on stopped VMs have ended; force what is left after a grace period.
      const timer = setTimeout(() => this.server.forceShutdown(), 5_000);
      await drained;
      clearTimeout(timer);
      fs.rmSync(this.socketPath, { force: true });
      this.logger.info('vessel daemon stopped');
    })();
    return this.stopping;
  }

  private bind(address: string, creds: grpc.ServerCredentials): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(address, creds, (err, port) =>
        err ? reject(new VesselError('UNAVAILABLE', `cannot listen on ${address}: ${err.message}`, { cause: err })) : resolve(port),
      );
    });
  }

  private socketAnswers(): Promise<boolean> {
    return new Promise((resolve) => {
      const client = new grpc.Client(`unix:${this.socketPath}`, grpc.credentials.createInsecure());
      client.waitForReady(Date.now() + 500, (err) => {
        client.close();
        resolve(!err);
      });
    });
  }
}
