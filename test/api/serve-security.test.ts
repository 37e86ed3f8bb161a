// Who gets into `vessel serve` (bin/vessel.js, compiled, as a child process) and where:
// TCP without a client CA is refused before listening; over mutual TLS with --allow-path a
// client shares an allowed dir with a real VM (which reads it) and is refused a symlink
// that escapes to `/`; TCP without --allow-path shares nothing; --group makes the socket
// 0660 for that group. (TLS handshakes themselves: test/cli/serve-tls.test.ts.)
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupId } from '../../src/host/index.js';
import { spawnChild, useTestHome, vesselBin, type Child, type TestHome } from '../cli/helpers.js';
import { call, callError, execOnce, vmClients, vmClientsAt, type VmClients } from '../support/grpc-client.js';
import { makePrivateTempDir } from '../support/tmpdir.js';
import { makeTlsMaterial, type TlsMaterial } from '../support/tls-material.js';

const BOOT = 240_000;

let home: TestHome;
let tmp: { dir: string; remove: () => Promise<void> };
let tls: TlsMaterial;
/** The --allow-path dir: share/ with a file, and escape -> / */
let allowed: string;
const children: Child[] = [];
const clients: VmClients[] = [];

beforeAll(async () => {
  home = await useTestHome();
  tmp = await makePrivateTempDir('serve-security');
  fs.mkdirSync(path.join(tmp.dir, 'tls'));
  tls = makeTlsMaterial(path.join(tmp.dir, 'tls'));
  allowed = path.join(fs.realpathSync(tmp.dir), 'allowed');
  fs.mkdirSync(path.join(allowed, 'share'), { recursive: true });
  fs.writeFileSync(path.join(allowed, 'share', 'f.txt'), 'from the allowed dir\n');
  fs.symlinkSync('/', path.join(allowed, 'escape'));
}, 600_000);

afterAll(async () => {
  for (const c of clients) c.close();
  for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  await tmp?.remove();
  await home?.restore();
});

function vessel(args: string[]): Child {
  const c = spawnChild('node', [vesselBin, ...args], { VESSEL_HOME: home.dir });
  children.push(c);
  return c;
}

const tlsFlags = () => ['--tls-cert', tls.serverCert, '--tls-key', tls.serverKey, '--tls-ca', tls.caCert];

/** Starts `vessel serve --socket <tmp>/<name>.sock ...args`; resolves with its "listening" log record. */
async function serve(name: string, args: string[]): Promise<{ child: Child; socket: string; listening: any }> {
  const socket = path.join(tmp.dir, `${name}.sock`);
  const child = vessel(['serve', '--socket', socket, ...args]);
  await child.waitForStderr('"msg":"vessel daemon listening"');
  const line = child
    .stderr()
    .split('\n')
    .find((l) => l.includes('vessel daemon listening'))!;
  return { child, socket, listening: JSON.parse(line) };
}

/** Clients over TCP presenting the CA-signed client certificate. */
function mtlsClients(port: number): VmClients {
  const creds = grpc.credentials.createSsl(fs.readFileSync(tls.caCert), fs.readFileSync(tls.clientKey), fs.readFileSync(tls.clientCert));
  const c = vmClientsAt(`localhost:${port}`, creds);
  clients.push(c);
  return c;
}

async function stopped(child: Child): Promise<number | null> {
  child.proc.kill('SIGTERM');
  return (await child.exited).code;
}

async function expectDenied(client: any, method: string, req: Record<string, unknown>, message: string | RegExp): Promise<void> {
  const err = await callError(client, method, req);
  expect({ method, code: err.code }).toEqual({ method, code: grpc.status.PERMISSION_DENIED });
  if (typeof message === 'string') expect(err.details).toBe(message);
  else expect(err.details).toMatch(message);
  expect(err.metadata.get('vessel-error-code')).toEqual(['PERMISSION_DENIED']);
}

describe('refused before listening (exit 2, nothing bound)', () => {
  it('--tcp without --tls-ca: mutual TLS is required, and the message says why', async () => {
    const socket = path.join(tmp.dir, 'no-ca.sock');
    const c = vessel(['serve', '--socket', socket, '--tcp', '127.0.0.1:0', '--tls-cert', tls.serverCert, '--tls-key', tls.serverKey]);
    expect((await c.exited).code).toBe(2);
    expect(c.stderr()).toMatch(
      /^vessel serve: --tcp needs --tls-ca: vessel serves TCP only with mutual TLS \(--tls-cert and --tls-key for the server, --tls-ca for the CA that signs the clients' certificates\); anyone who reaches the API can make VMs that read and write host files\n/,
    );
    expect(fs.existsSync(socket)).toBe(false);
  });

  it('an --allow-path that is no directory, and an unknown --group', async () => {
    const socket = path.join(tmp.dir, 'bad-flags.sock');
    const missing = path.join(tmp.dir, 'missing');
    const a = vessel(['serve', '--socket', socket, '--allow-path', missing]);
    expect((await a.exited).code).toBe(2);
    expect(a.stderr()).toMatch(new RegExp(`^vessel serve: --allow-path: allowed path ${missing}: no such directory\n`));
    const g = vessel(['serve', '--socket', socket, '--group', 'no-such-group-vessel']);
    expect((await g.exited).code).toBe(2);
    expect(g.stderr()).toMatch(/^vessel serve: --group no-such-group-vessel: no such group on this host/);
    expect(fs.existsSync(socket)).toBe(false);
  });
});

describe('mutual TLS with --allow-path', () => {
  it(
    'AddFS of an allowed dir works and the VM reads it; a symlink escaping to / and paths outside are PERMISSION_DENIED, on TCP and on the socket',
    async () => {
      const { child, socket, listening } = await serve('allow', ['--tcp', '127.0.0.1:0', ...tlsFlags(), '--allow-path', allowed]);
      expect(listening.allowedPaths).toEqual([allowed]);
      const c = mtlsClients(listening.tcpPort);
      const id = 'sec1';
      await call(c.manager, 'CreateInstance', { id });
      const escape = path.join(allowed, 'escape');
      const outside = `outside the allowed paths (--allow-path ${allowed})`;
      await expectDenied(
        c.instance,
        'AddFS',
        { instanceId: id, tag: 'root', hostPath: escape },
        `AddFS: host path "${escape}" resolves to /, which is ${outside}`,
      );
      await expectDenied(c.instance, 'AddFS', { instanceId: id, tag: 'etc', hostPath: path.join(escape, 'etc') }, /resolves to \/etc, which is outside/);
      await expectDenied(c.instance, 'AddFS', { instanceId: id, tag: 'up', hostPath: path.join(allowed, '..') }, /outside the allowed paths/);
      await expectDenied(c.instance, 'AddDisk', { instanceId: id, blockId: 'd0', hostPath: '/etc/passwd' }, `AddDisk: host path "/etc/passwd" is ${outside}`);
      await expectDenied(c.instance, 'AddDisk', { instanceId: id, blockId: 'd0', hostPath: path.join(allowed, 'share') }, /is not a regular file/);
      // the policy is the daemon's: the unix socket gets the same answer
      const local = vmClients(socket);
      clients.push(local);
      await expectDenied(local.instance, 'AddFS', { instanceId: id, tag: 'root', hostPath: '/' }, `AddFS: host path "/" is ${outside}`);

      await call(c.instance, 'AddFS', { instanceId: id, tag: 'data', hostPath: path.join(allowed, 'share') });
      const started = await call(c.instance, 'Start', { instanceId: id });
      expect(started.info.state).toBe('STATE_RUNNING');
      expect(started.info.config.shares.map((s: any) => s.hostPath)).toEqual([path.join(allowed, 'share')]);
      const r = await execOnce(c.instance, id, ['cat', '/mnt/data/f.txt']);
      expect(r).toEqual({ stdout: 'from the allowed dir\n', stderr: '', exit: expect.objectContaining({ exitCode: 0, signal: 0 }) });
      await call(c.manager, 'DeleteInstance', { instanceId: id });
      expect(await stopped(child)).toBe(0);
    },
    BOOT,
  );

  it('--tcp without --allow-path: every AddFS and AddDisk is refused, saying why', async () => {
    const { child, listening } = await serve('tcp-only', ['--tcp', '127.0.0.1:0', ...tlsFlags()]);
    expect(listening.allowedPaths).toBe('none');
    const c = mtlsClients(listening.tcpPort);
    await call(c.manager, 'CreateInstance', { id: 'sec2' });
    const why = 'refused: this daemon serves TCP and was started without --allow-path, so it shares no host path';
    const share = path.join(allowed, 'share');
    await expectDenied(c.instance, 'AddFS', { instanceId: 'sec2', tag: 'data', hostPath: share }, `AddFS: host path "${share}" ${why}`);
    const disk = path.join(share, 'f.txt');
    await expectDenied(c.instance, 'AddDisk', { instanceId: 'sec2', blockId: 'd0', hostPath: disk }, `AddDisk: host path "${disk}" ${why}`);
    expect(await stopped(child)).toBe(0);
  });
});

describe('--group', () => {
  it('the socket is 0660 and owned by the group; a socket dir vessel makes lets the group search it; a dir on the way that does not is logged', async () => {
    const gid = groupId('daemon');
    expect(gid).toBeDefined();
    const dir = path.join(tmp.dir, 'run');
    const socket = path.join(dir, 'vessel.sock');
    const child = vessel(['serve', '--socket', socket, '--group', 'daemon']);
    await child.waitForStderr('"msg":"vessel daemon listening"');
    const st = fs.statSync(socket);
    expect({ mode: (st.mode & 0o777).toString(8), gid: st.gid, socket: st.isSocket() }).toEqual({ mode: '660', gid, socket: true });
    const d = fs.statSync(dir);
    expect({ mode: (d.mode & 0o777).toString(8), gid: d.gid }).toEqual({ mode: '710', gid });
    // the test's private temp dir (0700) stands between the group and the socket
    const warning = JSON.parse(
      child
        .stderr()
        .split('\n')
        .find((l) => l.includes('the socket group cannot reach the socket'))!,
    );
    expect(warning).toMatchObject({ level: 40, gid, dir: tmp.dir });
    expect(await stopped(child)).toBe(0);
    expect(fs.existsSync(socket)).toBe(false);
  });
});
