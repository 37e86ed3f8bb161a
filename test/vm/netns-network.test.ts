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
import { waitHttp } from '../support/cri/reach.js';
import { VethNetns } from '../support/veth-netns.js';

const net = new VethNetns(`vessel-t${process.pid}`, `vt${process.pid}h`, '10.231.7');

describe('a passt NIC in a network namespace', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  let inst: Instance;
  let server: http.Server;

  beforeAll(async () => {
    net.create();
    server = http.createServer((_req, res) => res.end('from-the-host\n'));
    server.listen(0, net.gateway);
    await once(server, 'listening');

    tmp = await makePrivateTempDir('netns-vm');
    fs.mkdirSync(`${tmp.dir}/state`);
    inst = await new QemuManager().newInstance(`${tmp.dir}/state`);
    managedNetworking(inst, 'test').addPasstNIC('52:54:00:aa:07:02', { netns: net.path });
    await inst.start();
  }, 180_000);

  afterAll(async () => {
    await inst?.shutdown();
    server?.close();
    net.remove();
    await tmp?.remove();
  });

  it("the guest has the namespace's address and route", async () => {
    const out = await shInGuest(inst, 'ip -4 addr show; ip -4 route show default');
    expect(out).toContain(`inet ${net.podIp}/24`);
    expect(out).toMatch(new RegExp(`default via ${net.gateway.replace(/\./g, '\\.')}`));
  });

  it('the address answers from outside, and localhost in the namespace reaches the guest (port-forward)', async () => {
    await shInGuest(inst, 'mkdir -p /www && echo from-the-guest > /www/f && httpd -p 8080 -h /www');
    expect((await waitHttp(`http://${net.podIp}:8080/f`)).body).toBe('from-the-guest\n');
    expect(execFileSync('ip', ['netns', 'exec', net.name, 'busybox', 'wget', '-qO-', 'http://127.0.0.1:8080/f'], { encoding: 'utf8' })).toBe(
      'from-the-guest\n',
    );
  }, 60_000);

  it('the guest reaches the host side of the namespace from the namespace address', async () => {
    const port = (server.address() as { port: number }).port;
    const r = await runInGuest(inst, ['wget', '-qO-', `http://${net.gateway}:${port}/`]);
    expect({ code: r.exitCode, out: r.stdout }, r.stderr).toEqual({ code: 0, out: 'from-the-host\n' });
  }, 60_000);
});
