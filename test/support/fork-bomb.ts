// A fork bomb for teardown tests, as a guest shell script: it prints `started` on stdout,
// then forks without end, and waits in `sleep` (exec'd, so that waiting needs no fork). In a
// 256 MiB guest either of the workload subtree's limits may bind first (measured: ~1340
// tasks at pids.max, or ~148 MiB at memory.max with the OOM killer ending bomb processes
// for minutes), so the bomb holds the guest at its limits once its shells print "can't
// fork" (stderr) or the guest kernel reports a cgroup OOM kill (console). A monitor loop
// inside the guest reading the cgroup's counters was tried: at nice 0 among ~1340 forking
// tasks it took 8–80 s to see what had happened in 1.
export const FORK_BOMB_SCRIPT = 'echo started; f(){ f | f & }; f; exec sleep 300';

/** What the bomb's stderr, or the guest's console, says once the bomb is at the guest's limits. */
export const SATURATED = /can't fork|Memory cgroup out of memory/;

/** How long a bomb may take to saturate a 256 MiB, one-vCPU guest under TCG on a busy host. */
export const BOMB_SATURATION_MS = 180_000;
