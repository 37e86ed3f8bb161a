// TLS material for tests of `vessel serve --tcp`, made by openssl: a CA, a server
// certificate for localhost/127.0.0.1 and a client certificate, both signed by it, and a
// client certificate signed by another CA (a stranger's). EC P-256 keys: quick to make.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface TlsMaterial {
  /** PEM file paths. */
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  strangerCert: string;
  strangerKey: string;
}

export const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function makeCa(dir: string, name: string): { cert: string; key: string } {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  openssl(['req', '-x509', ...NEW_KEY, '-days', '1', '-keyout', key, '-out', cert, '-subj', `/CN=${name}`, '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return { cert, key };
}

function makeLeaf(dir: string, name: string, ca: { cert: string; key: string }, extensions: string[]): { cert: string; key: string } {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  const ext = path.join(dir, `${name}.ext`);
  const csr = path.join(dir, `${name}.csr`);
  fs.writeFileSync(ext, ['basicConstraints=critical,CA:FALSE', ...extensions].join('\n') + '\n');
  openssl(['req', '-new', ...NEW_KEY, '-keyout', key, '-out', csr, '-subj', `/CN=${name}`]);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', '1', '-extfile', ext, '-out', cert]);
  return { cert, key };
}

/** Writes the material into `dir` (which must exist). */
export function makeTlsMaterial(dir: string): TlsMaterial {
  const ca = makeCa(dir, 'ca');
  const server = makeLeaf(dir, 'localhost', ca, ['subjectAltName=DNS:localhost,IP:127.0.0.1', 'extendedKeyUsage=serverAuth']);
  const client = makeLeaf(dir, 'client', ca, ['extendedKeyUsage=clientAuth']);
  const other = makeCa(dir, 'other-ca');
  const stranger = makeLeaf(dir, 'stranger', other, ['extendedKeyUsage=clientAuth']);
  return {
    caCert: ca.cert,
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    strangerCert: stranger.cert,
    strangerKey: stranger.key,
  };
}
