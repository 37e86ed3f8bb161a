// Receiving side of bench/mux-throughput: a yamux server session in its own thread (as the
// Go benchmark's receiver runs on its own goroutine), counting bytes of every accepted stream.
import net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { MuxSession } from '../src/mux/index.js';

const { socketPath } = workerData as { socketPath: string };

const server = net.createServer((socket) => {
  const session = new MuxSession(socket, { role: 'server' });
  void (async () => {
    for (;;) {
      let stream;
      try {
        stream = await session.accept();
      } catch {
        return;
      }
      let bytes = 0;
      stream.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      stream.on('end', () => {
        parentPort!.postMessage({ type: 'stream-done', bytes, at: performance.timeOrigin + performance.now() });
        stream.end();
      });
    }
  })();
});
server.listen(socketPath, () => parentPort!.postMessage({ type: 'listening' }));
parentPort!.on('message', (m: { type: string }) => {
  if (m.type === 'stop') server.close();
});
