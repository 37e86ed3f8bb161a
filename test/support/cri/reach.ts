// Reaching pods over the network from the host: HTTP GETs with a bounded time (busybox httpd
// serves the test image's /www), polled until a server that is starting answers, and the
// host's own address (a hostPort answers on it).
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';

export interface HttpAnswer {
  status: number;
  body: string;
}

/** One GET; rejects on a connection error or after `timeoutMs`. */
export function httpGet(url: string, timeoutMs = 5000): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** GETs `url` until it answers 200 (a server in a container starts after the container does). */
export async function waitHttp(url: string, timeoutMs = 30_000): Promise<HttpAnswer> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const a = await httpGet(url, Math.max(1000, Math.min(5000, deadline - Date.now())));
      if (a.status === 200) return a;
      last = new Error(`status ${a.status}`);
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`GET ${url} did not answer 200 within ${timeoutMs} ms: ${(last as Error).message}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The host's first non-loopback IPv4 address outside `exclude` interfaces (e.g. the CNI bridge). */
export function hostAddress(exclude: (name: string) => boolean = () => false): string {
  for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
    if (name === 'lo' || exclude(name) || name.startsWith('veth')) continue;
    const a = addrs?.find((x) => x.family === 'IPv4' && !x.internal);
    if (a) return a.address;
  }
  throw new Error('the host has no non-loopback IPv4 address');
}

/** A TCP port nothing listens on right now (for a hostPort). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '0.0.0.0', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
