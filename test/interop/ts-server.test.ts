// The Go reference client (hashicorp/yamux + containerd/ttrpc) against the TypeScript server:
// every check runs in the Go peer, which prints one verdict per check.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGoPeer, runGoClient, stopAllPeers, type CheckResult } from '../support/go-peer.js';
import { startTsServer, type TsServer } from '../support/ts-peer.js';

const YAMUX_CHECKS = [
  'unary', 'metadata', 'server-stream', 'client-stream', 'bidi-stream', 'concurrent64', 'deadline',
  'handler-error', 'oversize-response', 'oversize-request', 'even-id', 'raw-parallel', 'source', 'fin',
  'rst-from-server', 'hold-release', 'slow-sink', 'raw-refusal', 'goaway', 'await-goaway',
];
const TTRPC_ONLY_CHECKS = [
  'unary', 'metadata', 'server-stream', 'client-stream', 'bidi-stream', 'concurrent64', 'deadline',
  'handler-error', 'oversize-response', 'oversize-request', 'even-id',
];

function describeChecks(title: string, checks: string[], ttrpcOnly: boolean): void {
  describe(title, () => {
    let server: TsServer;
    let results: CheckResult[] = [];
    let code: number | null = null;
    let stderr = '';

    beforeAll(async () => {
      await buildGoPeer();
      server = await startTsServer({ ttrpcOnly });
      ({ results, code, stderr } = await runGoClient(server.socketPath, checks, { ttrpcOnly }));
    }, 240_000);

    afterAll(async () => {
      await server?.stop();
      await stopAllPeers();
    });

    it.each(checks)('%s', (check) => {
      const r = results.find((x) => x.check === check);
      expect(r, `no verdict for ${check}; peer stderr: ${stderr.slice(-2000)}`).toBeDefined();
      if (r!.detail) console.log(JSON.stringify({ check, ms: r!.ms, detail: r!.detail }));
      expect(r!.ok, r!.detail).toBe(true);
    });

    it('the Go client exits 0 after all checks', () => {
      expect(code, stderr.slice(-2000)).toBe(0);
    });
  });
}

describeChecks('Go reference client → TypeScript server over yamux', YAMUX_CHECKS, false);
describeChecks('Go reference client → TypeScript ttrpc server on a plain unix socket', TTRPC_ONLY_CHECKS, true);
