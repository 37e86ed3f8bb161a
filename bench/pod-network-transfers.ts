// The host's side of bench/pod-network: one timed TCP transfer each way to a pod's IP, and
// the probes that tell a pod's servers are up. Download: an HTTP GET of the file the pod's
// busybox httpd serves (status 200, every byte counted). Upload: bytes written to the pod's
// `nc -ll -e dd of=/dev/null bs=1M iflag=fullblock`, then a half-close; dd's answer on
// the same connection ("N+P records in", full 1 MiB blocks + partial ones) is the receipt:
// the transfer counts only when the pod read exactly what was sent. Every call is bounded
// by `timeoutMs` and ends early when `signal` aborts.
import http from 'node:http';
import net from 'node:net';

export const MIB = 1024 * 1024;

export interface TransferOptions {
  timeoutMs: number;
  signal: AbortSignal;
}

function bounded(o: TransferOptions): AbortSignal {
  return AbortSignal.any([o.signal, AbortSignal.timeout(o.timeoutMs)]);
}

/** GETs `url` to its end; the body must be `expectBytes` long. Resolves to the wall time in ms. */
export function download(url: string, expectBytes: number, o: TransferOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.get(url, { agent: false, signal: bounded(o) }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.once('error', reject);
      res.once('end', () => {
        const ms = performance.now() - t0;
        if (res.statusCode !== 200) reject(new Error(`GET ${url}: HTTP ${res.statusCode}`));
        else if (bytes !== expectBytes) reject(new Error(`GET ${url}: ${bytes} bytes, expected ${expectBytes}`));
        else resolve(ms);
      });
    });
    req.once('error', reject);
  });
}

/** The size the server announces for `url` (a HEAD request); rejects unless it answers 200. */
export function contentLength(url: string, o: TransferOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'HEAD', agent: false, signal: bounded(o) }, (res) => {
      res.resume();
      res.once('end', () => {
        if (res.statusCode === 200) resolve(Number(res.headers['content-length']));
        else reject(new Error(`HEAD ${url}: HTTP ${res.statusCode}`));
      });
    });
    req.once('error', reject);
    req.end();
  });
}

/**
 * Connects, sends `payload` (a whole number of MiB), half-closes and reads the receiver's
 * receipt to the end. Resolves to the wall time in ms, connect to receipt.
 */
export function upload(host: string, port: number, payload: Buffer, o: TransferOptions): Promise<number> {
  if (payload.length % MIB !== 0) throw new Error(`upload: ${payload.length} bytes is not a whole number of MiB`);
  const expected = `${payload.length / MIB}+0 records in`;
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const signal = bounded(o);
    const s = net.connect({ host, port });
    const abort = () => s.destroy(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
    signal.addEventListener('abort', abort, { once: true });
    let receipt = '';
    s.once('connect', () => s.end(payload));
    s.on('data', (b: Buffer) => {
      receipt += b.toString();
    });
    s.once('error', (err) => {
      signal.removeEventListener('abort', abort);
      reject(err);
    });
    s.once('end', () => {
      const ms = performance.now() - t0;
      signal.removeEventListener('abort', abort);
      if (receipt.split('\n')[0] === expected) resolve(ms);
      else reject(new Error(`upload to ${host}:${port}: the receiver read ${JSON.stringify(receipt)}, expected "${expected}"`));
    });
  });
}
