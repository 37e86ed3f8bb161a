// A fork bomb for teardown tests, as a guest shell script. It prints `started` on stdout,
// forks without end, and prints `saturated` on stderr once the guest's workload subtree is
// at its limits (tasks within 10 % of pids.max, or memory.max hit since it started: which
// comes first depends on the VM's memory), then waits in `sleep`, exec'd so that waiting
// needs no fork. The printing shell lowers its own oom_score_adj once the bomb is away, so
// the guest's OOM killer ends bomb processes, not it. Wait for `saturated`, not for "can't
// fork": a bomb held at memory.max by the OOM killer need never fail a fork.
const CG = '/sys/fs/cgroup/vessel';

export const FORK_BOMB_SCRIPT = [
  'echo started',
  `cg=${CG}`,
  'read max < $cg/pids.max',
  'hits(){ while read k v; do [ "$k" = max ] && echo $v; done < $cg/memory.events; }',
  'm0=$(hits)',
  '(f(){ f | f & }; f)',
  'echo -1000 > /proc/self/oom_score_adj',
  'sat(){ read n < $cg/pids.current; [ $((n * 10)) -ge $((max * 9)) ] && return 0; while read k v; do [ "$k" = max ] && [ "$v" -gt "$m0" ] && return 0; done < $cg/memory.events; return 1; }',
  'until sat; do :; done',
  'echo saturated >&2',
  'exec sleep 300',
].join('\n');

/** What the script prints on stderr once the bomb holds the guest at its limits. */
export const SATURATED = 'saturated\n';
