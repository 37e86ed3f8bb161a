// The addresses passt hands a guest when it runs in another network namespace (a pod's,
// set up by CNI): a copy of that namespace's own, on the interface of its IPv4 default
// route, with that route's gateway. The guest takes the namespace's IP (passt's model:
// the guest and its namespace share one address), so the pod IP answers from the guest.
import { execFileSync } from 'node:child_process';
import { VesselError } from '../../errors/index.js';
import type { IPConfig } from '../types.js';
import { PASST_DEFAULT_MTU } from './host-defaults.js';

interface IpRoute {
  dst?: string;
  gateway?: string;
  dev?: string;
}
interface IpAddress {
  addr_info?: Array<{ family?: string; local?: string; prefixlen?: number; scope?: string }>;
}

function ipJson<T>(netns: string, args: string[]): T[] {
  let out: string;
  try {
    out = execFileSync('nsenter', [`--net=${netns}`, '--', 'ip', '-j', '-4', ...args], { encoding: 'utf8', timeout: 10_000 });
  } catch (err) {
    throw new VesselError(
      'INVALID_ARGUMENT',
      `cannot read the addresses of network namespace ${netns}: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`,
    );
  }
  const parsed: unknown = JSON.parse(out || '[]');
  return Array.isArray(parsed) ? (parsed as T[]) : [];
}

export function netnsDefaults(netns: string): IPConfig {
  const route = ipJson<IpRoute>(netns, ['route', 'show', 'default']).find((r) => r.dev && r.gateway);
  if (!route) throw new VesselError('INVALID_ARGUMENT', `network namespace ${netns} has no IPv4 default route for passt to copy`);
  const addr = ipJson<IpAddress>(netns, ['address', 'show', 'dev', route.dev!])
    .flatMap((a) => a.addr_info ?? [])
    .find((i) => i.family === 'inet' && i.scope === 'global' && i.local && i.prefixlen !== undefined);
  if (!addr) throw new VesselError('INVALID_ARGUMENT', `interface ${route.dev} of network namespace ${netns} has no IPv4 address for passt to copy`);
  return { addresses: [`${addr.local}/${addr.prefixlen}`], gateway: route.gateway!, mtu: PASST_DEFAULT_MTU, dns: [] };
}
