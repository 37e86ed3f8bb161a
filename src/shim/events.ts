// Task events to containerd: Events/Forward on $TTRPC_ADDRESS (containerd-shim.md), one
// connection, events in order. A failed publish is logged, never fatal: ctr takes exit
// codes from Wait, and containerd re-reads state on reconnect.
import net from 'node:net';
import type { Logger } from 'pino';
import type { Empty, eventsv1, taskEvents } from '../gen/index.js';
import { TtrpcClient, type DeepPartial } from '../ttrpc/index.js';
import { packAny, shimProtos, timestamp } from './protos.js';

/** The events a shim publishes: containerd.events.<name>, by their generated types. */
export interface TaskEvents {
  TaskCreate: taskEvents.TaskCreate;
  TaskStart: taskEvents.TaskStart;
  TaskExit: taskEvents.TaskExit;
  TaskDelete: taskEvents.TaskDelete;
  TaskExecAdded: taskEvents.TaskExecAdded;
  TaskExecStarted: taskEvents.TaskExecStarted;
  TaskPaused: taskEvents.TaskPaused;
  TaskResumed: taskEvents.TaskResumed;
  TaskOOM: taskEvents.TaskOOM;
}

export type TaskEventName = keyof TaskEvents;

const TOPICS: Record<TaskEventName, string> = {
  TaskCreate: '/tasks/create',
  TaskStart: '/tasks/start',
  TaskExit: '/tasks/exit',
  TaskDelete: '/tasks/delete',
  TaskExecAdded: '/tasks/exec-added',
  TaskExecStarted: '/tasks/exec-started',
  TaskPaused: '/tasks/paused',
  TaskResumed: '/tasks/resumed',
  TaskOOM: '/tasks/oom',
};

export interface EventSink {
  publish<N extends TaskEventName>(name: N, event: DeepPartial<TaskEvents[N]>): void;
  close(): Promise<void>;
}

export function eventPublisher(address: string | undefined, namespace: string, logger: Logger): EventSink {
  let client: TtrpcClient | undefined;
  let chain = Promise.resolve();
  const connect = (): TtrpcClient => {
    if (!client) {
      const c = new TtrpcClient(net.connect(address!), { logger });
      void c.closed.then(() => {
        if (client === c) client = undefined;
      });
      client = c;
    }
    return client;
  };
  return {
    publish(name, event) {
      if (!address) return;
      const p = shimProtos();
      const envelope: DeepPartial<eventsv1.Envelope> = {
        timestamp: timestamp(Date.now()),
        namespace,
        topic: TOPICS[name],
        event: packAny(`containerd.events.${name}`, `containerd.events.${name}`, event),
      };
      chain = chain.then(async () => {
        try {
          const method = p.events.methods.Forward!;
          await connect().unary<eventsv1.ForwardRequest, Empty>(
            '/containerd.services.events.ttrpc.v1.Events/Forward',
            method.resolvedRequestType!,
            method.resolvedResponseType!,
            { envelope },
            { timeoutMs: 5000 },
          );
        } catch (err) {
          logger.warn({ err, topic: TOPICS[name] }, 'publishing an event failed');
        }
      });
    },
    async close() {
      await chain;
      client?.close();
    },
  };
}
