// The environment of a command vessel starts in a guest (`vessel run`, `vessel exec`):
// vessel's base (PATH, HOME, TERM: the host's with a terminal, else dumb), then the -e
// entries in order (a later KEY replaces an earlier one).
const GUEST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function guestEnvironment(entries: string[], tty: boolean, hostEnv: NodeJS.ProcessEnv): string[] {
  const vars = new Map<string, string>([
    ['PATH', `PATH=${GUEST_PATH}`],
    ['HOME', 'HOME=/root'],
    ['TERM', `TERM=${tty ? hostEnv.TERM || 'xterm' : 'dumb'}`],
  ]);
  for (const kv of entries) {
    const key = kv.slice(0, kv.indexOf('='));
    vars.delete(key); // re-insert at the end: order as given
    vars.set(key, kv);
  }
  return [...vars.values()];
}
