// A grpc-js client of vessel.vm.v1 for tests (dynamic stubs from the same proto the daemon
// serves) on the unix socket or over TCP with TLS, with promise-returning unary calls and a
// one-shot Exec.
import * as grpc from '@grpc/grpc-js';
import { vmPackageDefinition } from '../../src/api/index.js';

export interface VmClients {
  manager: any;
  instance: any;
  close(): void;
}

export function vmClients(socketPath: string): VmClients {
  return vmClientsAt(`unix:${socketPath}`, grpc.credentials.createInsecure());
}

/** Clients of any gRPC address (e.g. `localhost:PORT` with TLS credentials). */
export function vmClientsAt(address: string, creds: grpc.ChannelCredentials): VmClients {
  const pkg = grpc.loadPackageDefinition(vmPackageDefinition()) as any;
  const manager = new pkg.vessel.vm.v1.Manager(address, creds);
  const instance = new pkg.vessel.vm.v1.Instance(address, creds);
  return {
    manager,
    instance,
    close: () => {
      manager.close();
      instance.close();
    },
  };
}

export function call<T = any>(client: any, method: string, request: Record<string, unknown>): Promise<T> {
  return new Promise((resolve, reject) => client[method](request, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res))));
}

/** Resolves with the error a call fails with (and fails if it succeeds). */
export async function callError(client: any, method: string, request: Record<string, unknown>): Promise<grpc.ServiceError> {
  try {
    await call(client, method, request);
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error(`${method} succeeded; expected an error`);
}

export interface ExecOutcome {
  stdout: string;
  stderr: string;
  exit: { exitCode: number; signal: number };
}

/** One Exec call without stdin: the output and exit it ends with (rejects with the call's error). */
export function execOnce(instance: any, instanceId: string, args: string[]): Promise<ExecOutcome> {
  return new Promise((resolve, reject) => {
    const call = instance.Exec();
    let stdout = '';
    let stderr = '';
    let exit: ExecOutcome['exit'] | undefined;
    call.on('data', (m: any) => {
      if (m.msg === 'stdout') stdout += m.stdout;
      if (m.msg === 'stderr') stderr += m.stderr;
      if (m.msg === 'exit') exit = m.exit;
    });
    call.on('error', reject);
    call.on('end', () => (exit ? resolve({ stdout, stderr, exit }) : reject(new Error(`Exec ended without an exit; stderr: ${stderr}`))));
    call.write({ start: { instanceId, args } });
    call.end();
  });
}
