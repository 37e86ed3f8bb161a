// Validation of the static IP configuration the agent applies to a NIC.
import net from 'node:net';
import { VesselError } from '../errors/index.js';
import type { IPConfig } from './types.js';

function invalid(message: string): VesselError {
  return new VesselError('INVALID_ARGUMENT', message);
}

export function validateIPConfig(ip: IPConfig): void {
  if (!Array.isArray(ip.addresses)) throw invalid('ip.addresses must be a list of CIDR addresses');
  for (const a of ip.addresses) {
    const [addr, len, extra] = String(a).split('/');
    const family = net.isIP(addr ?? '');
    const bits = Number(len);
    if (family === 0 || extra !== undefined || len === undefined || !Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128)) {
      throw invalid(`ip address ${JSON.stringify(a)} must be CIDR, e.g. 192.0.2.2/24 or fd00::2/64`);
    }
  }
  if (ip.gateway !== undefined && net.isIP(ip.gateway) === 0) throw invalid(`gateway ${JSON.stringify(ip.gateway)} is not an IP address`);
  if (ip.mtu !== undefined && (!Number.isInteger(ip.mtu) || ip.mtu < 68 || ip.mtu > 65535)) throw invalid(`MTU must be 68-65535, got ${ip.mtu}`);
  for (const d of ip.dns ?? []) if (net.isIP(d) === 0) throw invalid(`DNS server ${JSON.stringify(d)} is not an IP address`);
}
