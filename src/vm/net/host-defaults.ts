// The addresses passt hands a guest by default: a copy of the host's own on the interface
// of the IPv4 default route (its "template interface"), that route's gateway (which passt
// maps to the host's loopback), passt's default MTU, and the host's non-loopback resolvers.
import fs from 'node:fs';
import os from 'node:os';
import { VesselError } from '../../errors/index.js';
import type { IPConfig } from '../types.js';

/** passt's default MTU: 65520 (maximum 802.3 MTU minus the 802.3 header). */
export const PASST_DEFAULT_MTU = 65520;

function hexToIPv4(hex: string): string {
  const n = parseInt(hex, 16); // /proc/net/route is little-endian
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255].join('.');
}

export function defaultRoute(routeTable = fs.readFileSync('/proc/net/route', 'utf8')): { iface: string; gateway: string } | undefined {
  for (const line of routeTable.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 8 && f[1] === '00000000' && f[7] === '00000000') return { iface: f[0]!, gateway: hexToIPv4(f[2]!) };
  }
  return undefined;
}

export function hostResolvers(
  resolvConf = (() => {
    try {
      return fs.readFileSync('/etc/resolv.conf', 'utf8');
    } catch {
      return '';
    }
  })(),
): string[] {
  return resolvConf
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((a): a is string => a !== undefined && !a.startsWith('127.') && a !== '::1' && a.includes('.'));
}

export function passtHostDefaults(): IPConfig {
  const route = defaultRoute();
  if (!route)
    throw new VesselError(
      'UNAVAILABLE',
      'the host has no IPv4 default route, so passt has no template interface to copy addresses from; pass explicit ip settings',
    );
  const addr = os.networkInterfaces()[route.iface]?.find((a) => a.family === 'IPv4' && !a.internal);
  if (!addr?.cidr) throw new VesselError('UNAVAILABLE', `the default-route interface ${route.iface} has no IPv4 address for passt to copy`);
  return { addresses: [addr.cidr], gateway: route.gateway, mtu: PASST_DEFAULT_MTU, dns: hostResolvers() };
}
