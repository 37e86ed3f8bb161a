// A network namespace as CNI's bridge plugin leaves one for a pod, without CNI: a veth pair
// whose inner end (eth0) has the pod IP and a default route via the host end, which has
// the gateway address. The host reaches the pod IP directly over the pair. create() first
// removes whatever a previous run of the same name left; remove() ends the processes still
// in the namespace (by PID: only a runtime we drove put them there), then deletes the pair
// and the namespace. Needs root (ip netns).
import { execFileSync } from 'node:child_process';

export class VethNetns {
  readonly podIp: string;
  readonly gateway: string;

  /**
   * `name`: the namespace (/run/netns/NAME); `hostIf`: the host end (≤ 15 characters);
   * `subnet`: the first three octets of a /24 no other interface of the host uses.
   */
  constructor(
    readonly name: string,
    private readonly hostIf: string,
    subnet: string,
  ) {
    this.podIp = `${subnet}.2`;
    this.gateway = `${subnet}.1`;
  }

  get path(): string {
    return `/run/netns/${this.name}`;
  }

  create(): void {
    this.remove();
    const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    ip('netns', 'add', this.name);
    ip('link', 'add', this.hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.name);
    ip('addr', 'add', `${this.gateway}/24`, 'dev', this.hostIf);
    ip('link', 'set', this.hostIf, 'up');
    ip('-n', this.name, 'addr', 'add', `${this.podIp}/24`, 'dev', 'eth0');
    ip('-n', this.name, 'link', 'set', 'eth0', 'up');
    ip('-n', this.name, 'link', 'set', 'lo', 'up');
    ip('-n', this.name, 'route', 'add', 'default', 'via', this.gateway);
  }

  /** PIDs of the processes in the namespace (none when it does not exist). */
  pids(): number[] {
    try {
      return execFileSync('ip', ['netns', 'pids', this.name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
        .split('\n')
        .filter(Boolean)
        .map(Number);
    } catch {
      return [];
    }
  }

  remove(): void {
    for (const pid of this.pids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const args of [
      ['link', 'del', this.hostIf],
      ['netns', 'del', this.name],
    ]) {
      try {
        execFileSync('ip', args, { stdio: 'ignore' });
      } catch {
        // not there
      }
    }
  }
}
