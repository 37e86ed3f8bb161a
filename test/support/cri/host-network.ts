// What the CRI plugin's CNI plugins change on the host, and undoing it for one harness:
// the bridge (named per harness), the iptables rules and chains that name this harness's
// CNI network or bridge (bridge's masquerade chains, portmap's CNI-DN-* chains and their
// jumps), portmap's shared CNI-HOSTPORT-* chains when this harness created them and no other
// network uses them, net.ipv4.ip_forward (the bridge plugin sets it to 1), network
// namespaces the pods had, and libcni's cache files for the network.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { runToolSync as runTool } from '../run-tool.js';

const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';
const CNI_CACHE = '/var/lib/cni';
const NETNS_DIR = '/var/run/netns';
const TABLES = ['nat', 'filter', 'mangle'] as const;
const HOSTPORT_CHAINS = ['CNI-HOSTPORT-DNAT', 'CNI-HOSTPORT-SETMARK', 'CNI-HOSTPORT-MASQ'];

export interface HostNetworkBefore {
  ipForward: string;
  /** Chains per table before the harness started. */
  chains: Record<string, Set<string>>;
  existed: { cniCache: boolean; cniResults: boolean; netnsDir: boolean };
}

export interface HostNetworkNames {
  /** The CNI network's name: the iptables comments and cache files of its pods carry it. */
  netName: string;
  bridge: string;
  subnet: string;
}

function iptablesSave(table: string): string[] {
  const r = runTool('iptables-save', ['-t', table]);
  if (r.code !== 0) throw new Error(`iptables-save -t ${table}: ${r.stderr}`);
  return r.stdout.split('\n');
}

function chainsOf(lines: string[]): Set<string> {
  return new Set(lines.filter((l) => l.startsWith(':')).map((l) => l.slice(1).split(' ')[0]!));
}

export function hostNetworkBefore(): HostNetworkBefore {
  const chains: Record<string, Set<string>> = {};
  for (const t of TABLES) chains[t] = chainsOf(iptablesSave(t));
  return {
    ipForward: fs.readFileSync(IP_FORWARD, 'utf8').trim(),
    chains,
    existed: { cniCache: fs.existsSync(CNI_CACHE), cniResults: fs.existsSync(`${CNI_CACHE}/results`), netnsDir: fs.existsSync(NETNS_DIR) },
  };
}

/** IPv4 networks the host routes already (to pick a subnet that overlaps none). */
function routedPrefixes(): string[] {
  const r = runTool('ip', ['-4', 'route', 'show', 'table', 'all']);
  return r.stdout.split('\n').map((l) => l.split(' ')[0] ?? '');
}

/** A unique network name, bridge name (≤ 15 bytes) and a /24 in 10.100-199.x.0 no route uses. */
export function pickNames(): HostNetworkNames {
  const tag = crypto.randomBytes(4).toString('hex');
  const used = new Set(routedPrefixes().map((p) => p.split('/')[0]!.split('.').slice(0, 3).join('.')));
  for (let i = 0; i < 100; i++) {
    const a = 100 + crypto.randomInt(100);
    const b = crypto.randomInt(256);
    if (!used.has(`10.${a}.${b}`)) return { netName: `vessel-cri-${tag}`, bridge: `vcri${tag}`, subnet: `10.${a}.${b}.0/24` };
  }
  throw new Error('no free 10.x.y.0/24 for the CRI test network');
}

/** A rule naming this harness's network (CNI's comments), bridge, or an address in its subnet. */
function namesUs(names: HostNetworkNames, line: string): boolean {
  const net = names.subnet.split('.').slice(0, 3).join('\\.');
  return line.includes(names.netName) || new RegExp(` ${names.bridge}( |$)`).test(line) || new RegExp(`(^|[^0-9])${net}\\.\\d`).test(line);
}

/** The jump target of a rule line (`-j X`), if any. */
function target(line: string): string | undefined {
  return / -j (\S+)/.exec(line)?.[1];
}

/** Deletes `rules` (iptables-save lines, `-A ...`) and then `chains` of `table` in one iptables-restore. */
function deleteRulesAndChains(table: string, rules: string[], chains: string[]): string | undefined {
  if (rules.length === 0 && chains.length === 0) return undefined;
  const script = [`*${table}`, ...rules.map((l) => `-D${l.slice(2)}`), ...chains.map((c) => `-F ${c}`), ...chains.map((c) => `-X ${c}`), 'COMMIT', ''].join(
    '\n',
  );
  const r = runTool('iptables-restore', ['--noflush'], { input: script });
  return r.code === 0 ? undefined : `iptables-restore (${table}): ${r.stderr.trim()}\n${script}`;
}

function cleanIptables(names: HostNetworkNames, before: HostNetworkBefore): string[] {
  const problems: string[] = [];
  for (const table of TABLES) {
    let lines = iptablesSave(table);
    // Ours: chains that rules naming our network or bridge jump to (and were not there before).
    const mine = (l: string) => l.startsWith('-A ') && namesUs(names, l);
    const owned = new Set(
      lines
        .filter(mine)
        .map(target)
        .filter((t): t is string => t !== undefined && t.startsWith('CNI-') && !HOSTPORT_CHAINS.includes(t) && !before.chains[table]!.has(t)),
    );
    const rules = lines.filter((l) => l.startsWith('-A ') && (mine(l) || owned.has(target(l) ?? '')) && !owned.has(l.split(' ')[1]!));
    const p = deleteRulesAndChains(table, rules, [...owned]);
    if (p) problems.push(p);
    // portmap's shared chains: ours to remove only if we created them and nothing uses them now.
    lines = iptablesSave(table);
    const chains = chainsOf(lines);
    const created = HOSTPORT_CHAINS.filter((c) => chains.has(c) && !before.chains[table]!.has(c));
    const othersUse = lines.some((l) => l.startsWith('-A CNI-HOSTPORT-DNAT ') && (target(l) ?? '').startsWith('CNI-DN-'));
    if (created.length > 0 && !othersUse) {
      const jumps = lines.filter((l) => l.startsWith('-A ') && created.includes(target(l) ?? '') && !created.includes(l.split(' ')[1]!));
      const q = deleteRulesAndChains(table, jumps, created);
      if (q) problems.push(q);
    }
  }
  return problems;
}

function removeNetns(paths: Iterable<string>): string[] {
  const problems: string[] = [];
  for (const p of paths) {
    if (!fs.existsSync(p)) continue;
    runTool('umount', ['-l', p]);
    try {
      fs.rmSync(p, { force: true });
    } catch (err) {
      problems.push(`netns ${p}: ${(err as Error).message}`);
    }
  }
  return problems;
}

function removeIfEmpty(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch {
    // not empty (someone else's), or gone
  }
}

/**
 * libcni's cached results of this network's pods: `<netName>-<pod id>-eth0`, and the
 * `cni-loopback-<pod id>-lo` the CRI plugin's loopback setup writes for the same pods.
 */
function cacheFiles(names: HostNetworkNames): string[] {
  const results = `${CNI_CACHE}/results`;
  if (!fs.existsSync(results)) return [];
  const files = fs.readdirSync(results);
  const ours = files.filter((f) => f.startsWith(`${names.netName}-`));
  const pods = new Set(ours.map((f) => f.slice(names.netName.length + 1).split('-')[0]));
  return [...ours, ...files.filter((f) => f.startsWith('cni-loopback-') && pods.has(f.slice('cni-loopback-'.length).split('-')[0]))];
}

/** Undoes what the CNI plugins did for this harness (synchronously: also usable on exit); returns what could not be undone. */
export function restoreHostNetwork(names: HostNetworkNames, before: HostNetworkBefore, netns: Iterable<string>): string[] {
  const problems: string[] = [];
  problems.push(...removeNetns(netns));
  if (runTool('ip', ['link', 'show', names.bridge]).code === 0) {
    const r = runTool('ip', ['link', 'del', names.bridge]);
    if (r.code !== 0) problems.push(`ip link del ${names.bridge}: ${r.stderr.trim()}`);
  }
  try {
    problems.push(...cleanIptables(names, before));
  } catch (err) {
    problems.push(`iptables: ${(err as Error).message}`);
  }
  fs.writeFileSync(IP_FORWARD, `${before.ipForward}\n`);
  const results = `${CNI_CACHE}/results`;
  for (const f of cacheFiles(names)) fs.rmSync(`${results}/${f}`, { force: true });
  if (!before.existed.cniResults) removeIfEmpty(results);
  if (!before.existed.cniCache) removeIfEmpty(CNI_CACHE);
  if (!before.existed.netnsDir) removeIfEmpty(NETNS_DIR);
  return problems;
}

/** What of this harness's network is still on the host (for "nothing left" checks). */
export function networkLeftovers(names: HostNetworkNames, netns: Iterable<string>): string[] {
  const left: string[] = [...netns].filter((p) => fs.existsSync(p)).map((p) => `netns ${p}`);
  for (const table of TABLES) {
    for (const l of iptablesSave(table)) {
      if (l.startsWith('-A ') && namesUs(names, l)) left.push(`iptables -t ${table} ${l}`);
    }
  }
  left.push(...cacheFiles(names).map((f) => `${CNI_CACHE}/results/${f}`));
  return left;
}
