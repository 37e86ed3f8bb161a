// `vessel serve` without VMs: TCP is refused without TLS; with mutual TLS (material made
// by openssl) only a grpc-js client that trusts the server and presents a certificate the
// --tls-ca signed gets in. (TCP without --tls-ca, and what a client may do once in:
// test/api/serve-security.test.ts.) And the client commands against no daemon: 125 with
// what to do.
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vmPackageDefinition } from '../../src/api/index.js';
import { makePrivateTempDir } from '../support/tmpdir.js';
import { hasOpenssl, makeTlsMaterial, type TlsMaterial } from '../support/tls-material.js';
import { spawnChild, vesselBin, type Child } from './helpers.js';

let tmp: { dir: string; remove: () => Promise<void> };
let tls: TlsMaterial;
const children: Child[] = [];

beforeAll(async () => {
  tmp = await makePrivateTempDir('cli-serve-tls');
  if (hasOpenssl) tls = makeTlsMaterial(tmp.dir);
});

afterAll(async () => {
  for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  await tmp?.remove();
});

function vessel(args: string[]): Child {
  const c = spawnChild('node', [vesselBin, ...args], { VESSEL_HOME: path.join(tmp.dir, 'home') });
  children.push(c);
  return c;
}

/** Starts `vessel serve` with `args`; resolves with the TCP port from its "listening" log line. */
async function serve(args: string[]): Promise<{ child: Child; port: number }> {
  const child = vessel(['serve', '--socket', path.join(tmp.dir, `s${children.length}.sock`), ...args]);
  await child.waitForStderr('"msg":"vessel daemon listening"');
  const line = child
    .stderr()
    .split('\n')
    .find((l) => l.includes('vessel daemon listening'))!;
  return { child, port: JSON.parse(line).tcpPort };
}

function listOverTcp(port: number, creds: grpc.ChannelCredentials): Promise<any> {
  const pkg = grpc.loadPackageDefinition(vmPackageDefinition()) as any;
  const manager = new pkg.vessel.vm.v1.Manager(`localhost:${port}`, creds);
  return new Promise((resolve, reject) => {
    manager.ListInstances({}, { deadline: Date.now() + 10_000 }, (err: grpc.ServiceError | null, res: any) => {
      manager.close();
      if (err) reject(err);
      else resolve(res);
    });
  });
}

async function stopped(child: Child): Promise<number | null> {
  child.proc.kill('SIGTERM');
  return (await child.exited).code;
}

describe('vessel serve: TCP only with mutual TLS', () => {
  it('--tcp without a certificate and key is refused with exit 2, and nothing listens', async () => {
    const c = vessel(['serve', '--socket', path.join(tmp.dir, 'refused.sock'), '--tcp', '127.0.0.1:0', '--tls-cert', path.join(tmp.dir, 'c.pem')]);
    expect((await c.exited).code).toBe(2);
    expect(c.stderr()).toMatch(/^vessel serve: --tcp needs --tls-key, --tls-ca: vessel serves TCP only with mutual TLS/);
    expect(fs.existsSync(path.join(tmp.dir, 'refused.sock'))).toBe(false);
  });

  it.skipIf(!hasOpenssl)('only a client presenting a certificate the CA signed gets in', async () => {
    const { child, port } = await serve(['--tcp', '127.0.0.1:0', '--tls-cert', tls.serverCert, '--tls-key', tls.serverKey, '--tls-ca', tls.caCert]);
    expect(port).toBeGreaterThan(0);
    const ca = fs.readFileSync(tls.caCert);
    const withCert = (cert: string, key: string) => grpc.credentials.createSsl(ca, fs.readFileSync(key), fs.readFileSync(cert));
    expect(await listOverTcp(port, withCert(tls.clientCert, tls.clientKey))).toEqual({ instances: [] });
    // no client certificate; one another CA signed; a client that does not trust the server
    await expect(listOverTcp(port, grpc.credentials.createSsl(ca))).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    await expect(listOverTcp(port, withCert(tls.strangerCert, tls.strangerKey))).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    await expect(listOverTcp(port, grpc.credentials.createSsl(null, fs.readFileSync(tls.clientKey), fs.readFileSync(tls.clientCert)))).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
    expect(await stopped(child)).toBe(0);
  });

  it('a TLS file that cannot be read is named', async () => {
    const pem = path.join(tmp.dir, 'present.pem');
    fs.writeFileSync(pem, '');
    const c = vessel([
      'serve',
      '--socket',
      path.join(tmp.dir, 'x.sock'),
      '--tcp',
      '127.0.0.1:0',
      '--tls-cert',
      path.join(tmp.dir, 'missing.pem'),
      '--tls-key',
      pem,
      '--tls-ca',
      pem,
    ]);
    expect((await c.exited).code).toBe(2);
    expect(c.stderr()).toMatch(/^vessel serve: --tls-cert \S+missing\.pem: no such file/);
  });
});

describe('client commands without a daemon', () => {
  it('ps: 125 and "is `vessel serve` running?" with the socket', async () => {
    const sock = path.join(tmp.dir, 'nobody.sock');
    const c = vessel(['ps', '--socket', sock]);
    expect((await c.exited).code).toBe(125);
    expect(c.stderr()).toBe(`vessel ps: cannot reach the vessel daemon: no socket there; is \`vessel serve\` running? socket ${sock}\n`);
    expect(c.stdout()).toBe('');
  });

  it('exec, logs, create, stop and rm say the same; a socket nobody listens on is told apart', async () => {
    const stale = path.join(tmp.dir, 'stale.sock');
    fs.writeFileSync(stale, ''); // connect() to it is refused, as to a dead daemon's socket
    for (const args of [['exec', 'x', 'true'], ['logs', 'x'], ['create'], ['stop', 'x'], ['rm', 'x']]) {
      const c = vessel([args[0]!, '--socket', stale, ...args.slice(1)]);
      expect({ args, code: (await c.exited).code }).toEqual({ args, code: 125 });
      expect(c.stderr()).toBe(
        `vessel ${args[0]}: cannot reach the vessel daemon: nothing listens on the socket (a daemon that was killed leaves it behind); is \`vessel serve\` running? socket ${stale}\n`,
      );
    }
  });
});
