// AgentClient: the host's typed view of one guest agent over one yamux session — the
// control plane (ttrpc vessel.agent.v1.Agent on the session's first stream) and raw
// streams claimed by id.
import type protobuf from 'protobufjs';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { MuxSession, type MuxStream } from '../mux/index.js';
import { VesselError, errorFromStatus } from '../errors/index.js';
import type { agentv1 } from '../gen/index.js';
import { TtrpcClient, isTtrpcError, loadProtos, type CallOptions, type UnaryClient } from '../ttrpc/index.js';
import { openClaimedStream } from './stream-claim.js';
import type { AgentInfo, ExecSpec, ExitStatus, InterfaceSpec, MountSpec } from './types.js';

let agentService: protobuf.Service | undefined;

function service(): protobuf.Service {
  // relative to <repo>/proto, where loadProtos looks by default
  agentService ??= loadProtos(['vessel/agent/v1/agent.proto']).lookupService('vessel.agent.v1.Agent');
  return agentService;
}

type AgentStub = UnaryClient<agentv1.Agent>;
type Method = keyof agentv1.Agent;

export class AgentClient {
  readonly session: MuxSession;
  readonly ttrpc: TtrpcClient;
  private readonly rpc: AgentStub;
  private ownsSession = false;

  private constructor(session: MuxSession, ttrpc: TtrpcClient) {
    this.session = session;
    this.ttrpc = ttrpc;
    // the stubs ttrpc builds from the loaded service are these methods (types from the same proto)
    this.rpc = ttrpc.service(service()) as unknown as AgentStub;
  }

  /** Opens the control-plane stream (the session's first) on a session the caller owns. */
  static async connect(session: MuxSession): Promise<AgentClient> {
    return new AgentClient(session, new TtrpcClient(await session.open()));
  }

  /**
   * Runs the host's end of the yamux session over `transport` (the guest's agent port) and
   * opens the control plane; close() ends the session. On failure the session is destroyed.
   */
  static async overTransport(transport: Duplex, opts: { logger?: Logger } = {}): Promise<AgentClient> {
    const session = new MuxSession(transport, { role: 'client', logger: opts.logger });
    try {
      const client = await AgentClient.connect(session);
      client.ownsSession = true;
      return client;
    } catch (err) {
      session.destroy();
      throw err;
    }
  }

  /** One RPC; a status the agent answered with becomes a VesselError of its code here. */
  private async call<M extends Method>(method: M, req: Parameters<AgentStub[M]>[0], opts?: CallOptions): Promise<Awaited<ReturnType<AgentStub[M]>>> {
    try {
      // (one stub per method: TypeScript cannot correlate a generic key's stub with its own request type)
      const stub = this.rpc[method] as unknown as (r: typeof req, o?: CallOptions) => ReturnType<AgentStub[M]>;
      return await stub(req, opts);
    } catch (err) {
      throw isTtrpcError(err) ? errorFromStatus(err.status, err.message, { cause: err }) : err;
    }
  }

  async ping(opts?: CallOptions): Promise<{ agentVersion: string }> {
    return this.call('Ping', {}, opts);
  }

  async info(opts?: CallOptions): Promise<AgentInfo> {
    return this.call('Info', {}, opts);
  }

  /**
   * Starts a guest process. The agent refusing the program itself becomes
   * COMMAND_NOT_FOUND (NOT_FOUND: no such file) or COMMAND_NOT_EXECUTABLE (PERMISSION_DENIED
   * or INVALID_ARGUMENT: not executable, a missing cwd or rootfs), a shell's 127 and 126.
   */
  async exec(spec: ExecSpec, opts?: CallOptions): Promise<{ pid: number }> {
    try {
      return await this.call('Exec', { ...spec }, opts);
    } catch (err) {
      if (!(err instanceof VesselError)) throw err;
      if (err.code === 'NOT_FOUND') throw new VesselError('COMMAND_NOT_FOUND', err.message, { cause: err });
      if (err.code === 'PERMISSION_DENIED' || err.code === 'INVALID_ARGUMENT') throw new VesselError('COMMAND_NOT_EXECUTABLE', err.message, { cause: err });
      throw err;
    }
  }

  async wait(execId: string, opts?: CallOptions): Promise<ExitStatus> {
    return this.call('Wait', { execId }, opts);
  }

  async signal(execId: string, signal: number, group = false, opts?: CallOptions): Promise<void> {
    await this.call('Signal', { execId, signal, group }, opts);
  }

  /** Signals every process in the guest but the agent (kill(-1)); none left is no error. */
  async signalAll(signal: number, opts?: CallOptions): Promise<void> {
    await this.call('SignalAll', { signal }, opts);
  }

  async resizePty(execId: string, rows: number, cols: number, opts?: CallOptions): Promise<void> {
    await this.call('ResizePty', { execId, rows, cols }, opts);
  }

  async closeStdin(execId: string, opts?: CallOptions): Promise<void> {
    await this.call('CloseStdin', { execId }, opts);
  }

  async mount(spec: MountSpec, opts?: CallOptions): Promise<void> {
    await this.call('Mount', spec, opts);
  }

  async configureInterface(spec: InterfaceSpec, opts?: CallOptions): Promise<{ name: string }> {
    return this.call('ConfigureInterface', spec, opts);
  }

  /**
   * Waits for the guest file `path` to appear (renamed into place whole, as runc writes its
   * pid file) and returns its first `maxBytes` bytes; FAILED_PRECONDITION when the exec
   * `whileExecId` ends first, DEADLINE_EXCEEDED after `timeoutMs` (agent.proto WaitFile).
   */
  async waitFile(spec: { path: string; timeoutMs?: number; whileExecId?: string; maxBytes?: number }, opts?: CallOptions): Promise<Buffer> {
    const timeoutMs = Math.min(spec.timeoutMs ?? 10_000, 60_000);
    // the call outlives the agent's own deadline by a margin, so that answer arrives
    const r = await this.call('WaitFile', { ...spec, timeoutMs }, { timeoutMs: timeoutMs + 5_000, ...opts });
    return Buffer.from(r.content);
  }

  /**
   * Fences a device whose host backend died (agent.proto FenceDevice): a share's mounts
   * become dead mounts that fail every access with ENOTCONN, a NIC is set down. Returns the
   * mount points fenced, or the interface's name.
   */
  async fenceDevice(device: { virtiofsTag: string } | { mac: string }, opts?: CallOptions): Promise<string[]> {
    return (await this.call('FenceDevice', device, opts)).fenced;
  }

  /**
   * Hands this session over for a snapshot (agent.proto Detach): resolves once the agent
   * has written its GoAway, the session's last bytes (its reply may be lost to the handover,
   * so the GoAway is what counts); after it nothing more is sent or read here, and the
   * next bytes on the transport start a new session. Rejects (and leaves the session as
   * it is) when the agent refuses or nothing arrives within `timeoutMs`.
   */
  async detach(opts: { timeoutMs: number }): Promise<void> {
    let onGoAway!: () => void;
    const goAway = new Promise<void>((resolve) => {
      onGoAway = resolve;
      this.session.once('goAway', resolve);
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      const reply = this.call('Detach', {}, { timeoutMs: opts.timeoutMs }).then(
        () => new Promise<never>(() => undefined), // answered: the GoAway decides
        (err: unknown) => {
          throw err;
        },
      );
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new VesselError('DEADLINE_EXCEEDED', `the agent did not hand its session over within ${opts.timeoutMs} ms`)), opts.timeoutMs);
      });
      await Promise.race([goAway, reply, late]);
    } finally {
      clearTimeout(timer);
      this.session.off('goAway', onGoAway);
    }
  }

  /**
   * Makes a guest just restored from a snapshot a machine of its own (agent.proto
   * AfterRestore): reseeds its RNG from `entropy`, steps its clock to the host's now, sets
   * `hostname` when given. Returns how far the clock was stepped, in nanoseconds.
   */
  async afterRestore(req: { entropy: Buffer; hostname?: string }, opts?: CallOptions): Promise<{ clockStepNs: bigint }> {
    const unixNano = BigInt(Date.now()) * 1_000_000n;
    return this.call('AfterRestore', { entropy: req.entropy, unixNano, hostname: req.hostname ?? '' }, opts);
  }

  async shutdown(opts?: CallOptions): Promise<void> {
    await this.call('Shutdown', {}, opts);
  }

  /** Opens a raw stream claimed by `id` (Exec stdio, `tcp:PORT`, `unix:/PATH`). */
  openStream(id: string): Promise<MuxStream> {
    return openClaimedStream(this.session, id);
  }

  close(): void {
    this.ttrpc.close();
    if (this.ownsSession) this.session.destroy();
  }
}
