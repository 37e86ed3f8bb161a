// A grpc-js client of vessel.vm.v1 for tests (dynamic stubs from the same proto the daemon
// serves), with promise-returning unary calls.
import * as grpc from '@grpc/grpc-js';
import { vmPackageDefinition } from '../../src/api/index.js';

export interface VmClients {
  manager: any;
  instance: any;
  close(): void;
}

export function vmClients(socketPath: string): VmClients {
  const pkg = grpc.loadPackageDefinition(vmPackageDefinition()) as any;
  const address = `unix:${socketPath}`;
  const manager = new pkg.vessel.vm.v1.Manager(address, grpc.credentials.createInsecure());
  const instance = new pkg.vessel.vm.v1.Instance(address, grpc.credentials.createInsecure());
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
