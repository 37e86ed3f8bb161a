// A typed view of the InteropTest stub for tests, and a status-code assertion.
import { expect } from 'vitest';
import type protobuf from 'protobufjs';
import { Code, TtrpcError, type CallOptions, type TtrpcClient } from '../../src/ttrpc/index.js';

export interface InteropStub {
  Echo(req: Record<string, unknown>, opts?: CallOptions): Promise<any>;
  ServerStream(req: Record<string, unknown>, opts?: CallOptions): AsyncIterable<any>;
  ClientStream(opts?: CallOptions): { send(msg: Record<string, unknown>): Promise<void>; closeSend(): Promise<void>; response: Promise<any> };
  BidiStream(opts?: CallOptions): {
    send(msg: Record<string, unknown>): Promise<void>;
    closeSend(): Promise<void>;
    [Symbol.asyncIterator](): AsyncIterator<any>;
  };
  RawResult(req: { name: string }, opts?: CallOptions): Promise<any>;
  Release(req: { name: string }, opts?: CallOptions): Promise<any>;
}

export function interopStub(client: TtrpcClient, root: protobuf.Root): InteropStub {
  return client.service(root.lookupService('vessel.test.v1.InteropTest')) as unknown as InteropStub;
}

/** Asserts that `p` rejects with a TtrpcError of `code` (and `message`, when given). */
export async function expectCode(p: Promise<unknown>, code: Code, message?: string): Promise<TtrpcError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${Code[code]}`).toBeInstanceOf(TtrpcError);
  const te = err as TtrpcError;
  expect(Code[te.status]).toBe(Code[code]);
  if (message !== undefined) expect(te.message).toBe(message);
  return te;
}
