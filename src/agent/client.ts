// AgentClient: the host's typed view of one guest agent over one yamux session — the
// control plane (ttrpc vessel.agent.v1.Agent on the session's first stream) and raw
// streams claimed by id.
import crypto from 'node:crypto';
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

/** agent.proto Detach: the token's size, and what the agent writes before the token once it has read it. */
const DETACH_TOKEN_BYTES = 16;
const DETACH_ACK = Buffer.from('vessel-detached\n');

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
   * Hands this session's transport over for a snapshot (agent.proto Detach): the agent
   * answers, this session ends without sending another byte, `token` goes out raw as the
   * old session's last bytes, and the call resolves once the agent has acknowledged it
   * (DETACH_ACK + token): from then on the next bytes on the transport start a new session,
   * in this VM or in a copy restored from a snapshot taken now. The transport is left open
   * (the caller closes it); the client is closed. Rejects (DEADLINE_EXCEEDED) when a step
   * takes longer than `timeoutMs`, or with the agent's refusal (the session then goes on).
   */
  async detach(opts: { timeoutMs: number }): Promise<void> {
    const token = crypto.randomBytes(DETACH_TOKEN_BYTES);
    await this.call('Detach', { token }, { timeoutMs: opts.timeoutMs });
    const transport = this.session.abandon();
    this.close();
    const ack = Buffer.concat([DETACH_ACK, token]);
    await new Promise<void>((resolve, reject) => {
      let seen = Buffer.alloc(0);
      const finish = (err?: Error) => {
        clearTimeout(timer);
        transport.off('data', onData);
        transport.off('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      const onData = (chunk: Buffer) => {
        // what the old session still sent comes first; only the tail can hold the ack
        seen = Buffer.concat([seen, chunk]);
        if (seen.includes(ack)) finish();
        else seen = seen.subarray(Math.max(0, seen.length - ack.length));
      };
      const onClose = () => finish(new VesselError('UNAVAILABLE', 'the agent port closed during the handover'));
      const timer = setTimeout(() => finish(new VesselError('DEADLINE_EXCEEDED', `the agent did not acknowledge the handover within ${opts.timeoutMs} ms`)), opts.timeoutMs);
      transport.on('data', onData);
      transport.on('close', onClose);
      transport.resume();
      transport.write(token);
    });
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
