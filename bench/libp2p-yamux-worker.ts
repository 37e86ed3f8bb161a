// Receiving side of the @chainsafe/libp2p-yamux round (bench/libp2p-yamux-round.ts), the
// counterpart of bench/mux-throughput-worker.ts: a yamux server muxer in its own thread,
// counting the bytes of every accepted stream and reporting when each stream's read side ends.
import net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { socketToMultiaddrConnection } from './libp2p-socket-adapter.js';
import { libp2pYamuxFactory } from './libp2p-yamux-config.js';

const { socketPath } = workerData as { socketPath: string };

const server = net.createServer((socket) => {
  const conn = socketToMultiaddrConnection(socket, socketPath, 'inbound');
  const muxer = libp2pYamuxFactory.createStreamMuxer(conn);
  muxer.addEventListener('stream', (evt) => {
    const stream = evt.detail;
    let bytes = 0;
    stream.addEventListener('message', (m) => {
      bytes += m.data.byteLength;
    });
    // 'end': the remote closed its write side and everything it sent has been delivered.
    stream.addEventListener('end', () => {
      parentPort!.postMessage({ type: 'stream-done', bytes, at: performance.timeOrigin + performance.now() });
      void stream.close().catch(() => {});
    });
  });
});
server.listen(socketPath, () => parentPort!.postMessage({ type: 'listening' }));
parentPort!.on('message', (m: { type: string }) => {
  if (m.type === 'stop') server.close();
});
