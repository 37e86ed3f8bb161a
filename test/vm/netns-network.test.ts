// A passt NIC in another network namespace (a pod's, as CNI makes it): the guest takes the
// namespace's address, and what reaches that address from outside, or localhost inside the
// namespace (as CRI port-forward dials), reaches the guest; the guest's own connections
// leave from the namespace. The namespace here is a veth pair like CNI's bridge plugin makes.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QemuManager, managedNetworking, type Instance } from '../../src/vm/index.js';
import { runInGuest, shInGuest } from '../support/guest-exec.js';
import { makePrivateTempDir } from '../support/tmpdir.js';

const NS = `vessel-t${process.pid}`;
const HOST_IF = `vt${process.pid}h`;
const NS_IP = '10.231.7.2';
const HOST_IP = '10.231.7.1';

function sh(...args: string[]): string {
  return execFileSync(args[0]!, args.slice(1), { encoding: 'utf8' });
}

function removeNetwork(): void {
  for (const cmd of [
    ['ip', 'link', 'del', HOST_IF],
    ['ip', 'netns', 'del', NS],
  ]) {
    try {
      execFileSync(cmd[0]!, cmd.slice(1), { stdio: 'ignore' });
    } catch {
      // not there
    }
  }
}

/** Polls an async condition (a server coming up announces nothing) until it holds. */
async function until(what: string, cond: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function fetchText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { timeout: 5_000 }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body));
      })
      .on('error', reject)
      .on('timeout', function (this: http.ClientRequest) {
        this.destroy(new Error(`GET ${url} timed out`));
      });
  });
}

describe('a passt NIC in a network namespace', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  let inst: Instance;
  let server: http.Server;

  beforeAll(async () => {
    removeNetwork();
    sh('ip', 'netns', 'add', NS);
    sh('ip', 'link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS);
    sh('ip', 'addr', 'add', `${HOST_IP}/24`, 'dev', HOST_IF);
    sh('ip', 'link', 'set', HOST_IF, 'up');
    sh('ip', '-n', NS, 'addr', 'add', `${NS_IP}/24`, 'dev', 'eth0');
    sh('ip', '-n', NS, 'link', 'set', 'eth0', 'up');
    sh('ip', '-n', NS, 'link', 'set', 'lo', 'up');
    sh('ip', '-n', NS, 'route', 'add', 'default', 'via', HOST_IP);
    server = http.createServer((_req, res) => res.end('from-the-host\n'));
    server.listen(0, HOST_IP);
    await once(server, 'listening');

    tmp = await makePrivateTempDir('netns-vm');
    fs.mkdirSync(`${tmp.dir}/state`);
    inst = await new QemuManager().newInstance(`${tmp.dir}/state`);
    managedNetworking(inst, 'test').addPasstNIC('52:54:00:aa:07:02', { netns: `/run/netns/${NS}` });
    await inst.start();
  }, 180_000);

  afterAll(async () => {
    await inst?.shutdown();
    server?.close();
    removeNetwork();
    await tmp?.remove();
  });

  it("the guest has the namespace's address and route", async () => {
    const out = await shInGuest(inst, 'ip -4 addr show; ip -4 route show default');
    expect(out).toContain(`inet ${NS_IP}/24`);
    expect(out).toMatch(new RegExp(`default via ${HOST_IP.replace(/\./g, '\\.')}`));
  });

  it('the address answers from outside, and localhost in the namespace reaches the guest (port-forward)', async () => {
    await shInGuest(inst, 'mkdir -p /www && echo from-the-guest > /www/f && httpd -p 8080 -h /www');
    await until('the guest httpd via the namespace address', async () => (await fetchText(`http://${NS_IP}:8080/f`).catch(() => '')) === 'from-the-guest\n');
    expect(sh('ip', 'netns', 'exec', NS, 'busybox', 'wget', '-qO-', 'http://127.0.0.1:8080/f')).toBe('from-the-guest\n');
  }, 60_000);

  it('the guest reaches the host side of the namespace from the namespace address', async () => {
    const port = (server.address() as { port: number }).port;
    const r = await runInGuest(inst, ['wget', '-qO-', `http://${HOST_IP}:${port}/`]);
    expect({ code: r.exitCode, out: r.stdout }, r.stderr).toEqual({ code: 0, out: 'from-the-host\n' });
  }, 60_000);
});
