// `ctr events` running beside a test: every event containerd publishes, parsed from ctr's
// lines (`TIMESTAMP NAMESPACE TOPIC JSON`); until() resolves when an event matching a
// predicate has arrived (ctr prints each event as it comes: no polling of state).
import type { PrivateContainerd } from '../support/containerd.js';

export interface SeenEvent {
  namespace: string;
  topic: string;
  event: Record<string, unknown>;
}

export interface EventWatch {
  readonly seen: SeenEvent[];
  /** Task events (/tasks/…) of one container, in arrival order. */
  taskEvents(containerId: string): SeenEvent[];
  until(what: string, pred: (e: SeenEvent) => boolean, ms?: number): Promise<SeenEvent>;
  stop(): Promise<void>;
}

const LINE = / (\S+) (\/\S+) (\{.*\})$/;

export async function watchEvents(c: PrivateContainerd): Promise<EventWatch> {
  const child = c.spawnCtr(['events']);
  const seen: SeenEvent[] = [];
  const waiters = new Set<() => void>();
  let buf = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const m = LINE.exec(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      if (m) seen.push({ namespace: m[1]!, topic: m[2]!, event: JSON.parse(m[3]!) as Record<string, unknown> });
    }
    for (const w of waiters) w();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const watch: EventWatch = {
    seen,
    taskEvents: (id) => seen.filter((e) => e.topic.startsWith('/tasks/') && e.event.container_id === id),
    until: (what, pred, ms = 60_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const hit = seen.find(pred);
          if (!hit) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(hit);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${ms} ms waiting for the event ${what}; seen: ${JSON.stringify(seen.map((e) => e.topic))}; ctr: ${stderr}`));
        }, ms);
        waiters.add(check);
        check();
      }),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  // ctr prints nothing once it has subscribed: publish events of our own (a namespace
  // label change publishes /namespaces/update) until one comes back.
  for (let i = 0; ; i++) {
    const r = await c.ctr(['namespaces', 'label', 'default', `vessel.test=probe${i}`]);
    if (r.code !== 0) throw new Error(`ctr namespaces label: ${r.stderr}`);
    try {
      await watch.until('/namespaces/update', (e) => e.topic === '/namespaces/update', 1000);
      return watch;
    } catch (err) {
      if (i >= 30) {
        await watch.stop();
        throw err;
      }
    }
  }
}
