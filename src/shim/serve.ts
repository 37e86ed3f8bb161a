// The long-lived shim server (`serve`, spawned by `start`): logs (pino) to the bundle's
// `log` FIFO, serves containerd.task.v2.Task on its socket, tells `start` it listens by
// writing to fd 3, and exits after Shutdown, tearing the VM down first.
import fs from 'node:fs';
import { pino, type Logger } from 'pino';
import { TtrpcServer } from '../ttrpc/index.js';
import type { NewManager } from '../vm/index.js';
import type { ShimArgs } from './args.js';
import { eventPublisher } from './events.js';
import { shimProtos } from './protos.js';
import { TaskService } from './task-service.js';

function bundleLogger(bundle: string, debug: boolean): Logger {
  let fd: number;
  try {
    // O_RDWR: the open never blocks or fails for want of a reader (containerd's copier).
    fd = fs.openSync(`${bundle}/log`, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
  } catch {
    fd = fs.openSync('/dev/null', 'w');
  }
  return pino({ level: debug ? 'debug' : 'info', base: { pid: process.pid, runtime: 'vessel' } }, pino.destination({ fd, sync: false }));
}

export async function serveShim(a: ShimArgs, readyFd: number | undefined, newManager: NewManager): Promise<number> {
  const bundle = process.cwd();
  const logger = bundleLogger(bundle, a.debug);
  const events = eventPublisher(process.env.TTRPC_ADDRESS, a.namespace, logger);
  const server = new TtrpcServer({ logger });
  let done!: () => void;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const manager = newManager({ logger });
  const service = new TaskService({ namespace: a.namespace, id: a.id, logger, events, manager, onShutdown: () => setImmediate(done) });
  server.register(shimProtos().task, service);
  await server.listen(a.socket!);
  logger.info({ socket: a.socket, id: a.id, namespace: a.namespace }, 'shim serving');
  if (readyFd !== undefined) {
    fs.writeSync(readyFd, 'ready\n');
    fs.closeSync(readyFd);
  }
  const onSignal = (sig: NodeJS.Signals) => {
    logger.info({ sig }, 'signal: tearing down');
    done();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  await finished;
  await service.close().catch((err) => logger.error({ err }, 'teardown failed'));
  await events.close();
  await server.close();
  fs.rmSync(a.socket!, { force: true });
  logger.info('shim exiting');
  logger.flush();
  return 0;
}
