// `vessel serve` without VMs: TCP is refused without TLS; with a self-signed certificate
// (made by openssl) a grpc-js client that trusts it reaches the API over TCP and one that
// does not is refused; with --tls-ca a client must present a certificate. And the client
// commands against no daemon: 125 with what to do.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vmPackageDefinition } from '../../src/api/index.js';
import { makePrivateTempDir } from '../support/tmpdir.js';
import { spawnChild, vesselBin, type Child } from './helpers.js';

let tmp: { dir: string; remove: () => Promise<void> };
let cert: string;
let key: string;
const children: Child[] = [];
const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

beforeAll(async () => {
  tmp = await makePrivateTempDir('cli-serve-tls');
  cert = path.join(tmp.dir, 'cert.pem');
  key = path.join(tmp.dir, 'key.pem');
  if (hasOpenssl) {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
  }
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

describe('vessel serve: TCP only with TLS', () => {
  it('--tcp without a certificate and key is refused with exit 2, and nothing listens', async () => {
    const c = vessel(['serve', '--socket', path.join(tmp.dir, 'refused.sock'), '--tcp', '127.0.0.1:0', '--tls-cert', cert]);
    expect((await c.exited).code).toBe(2);
    expect(c.stderr()).toMatch(/^vessel serve: --tcp needs --tls-cert and --tls-key: vessel serves TCP only with TLS/);
    expect(fs.existsSync(path.join(tmp.dir, 'refused.sock'))).toBe(false);
  });

  it.skipIf(!hasOpenssl)('with a self-signed certificate: a client trusting it lists instances over TCP; one that does not is refused', async () => {
    const { child, port } = await serve(['--tcp', '127.0.0.1:0', '--tls-cert', cert, '--tls-key', key]);
    expect(port).toBeGreaterThan(0);
    expect(await listOverTcp(port, grpc.credentials.createSsl(fs.readFileSync(cert)))).toEqual({ instances: [] });
    await expect(listOverTcp(port, grpc.credentials.createSsl())).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(await stopped(child)).toBe(0);
  });

  it.skipIf(!hasOpenssl)('with --tls-ca: only a client presenting a certificate the CA signed gets in', async () => {
    // the self-signed certificate is its own CA, and serves as the client's certificate too
    const { child, port } = await serve(['--tcp', '127.0.0.1:0', '--tls-cert', cert, '--tls-key', key, '--tls-ca', cert]);
    const ca = fs.readFileSync(cert);
    await expect(listOverTcp(port, grpc.credentials.createSsl(ca))).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(await listOverTcp(port, grpc.credentials.createSsl(ca, fs.readFileSync(key), fs.readFileSync(cert)))).toEqual({ instances: [] });
    expect(await stopped(child)).toBe(0);
  });

  it('a TLS file that cannot be read is named', async () => {
    const c = vessel([
      'serve',
      '--socket',
      path.join(tmp.dir, 'x.sock'),
      '--tcp',
      '127.0.0.1:0',
      '--tls-cert',
      path.join(tmp.dir, 'missing.pem'),
      '--tls-key',
      key,
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
