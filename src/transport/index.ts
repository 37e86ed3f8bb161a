// Contract: byte pipes to a guest's agent. Today that is the host end of a virtio-serial
// port: a unix socket that QEMU serves (`-chardev socket,server=on`). QEMU binds the path
// before it listens, so a connect may meet ENOENT or ECONNREFUSED for a moment;
// connectUnixSocket retries those until the deadline, an abort, or the peer process dying
// (`alive()` false), and fails with UNAVAILABLE. Hybrid vsock (CONNECT <port>) belongs here
// when a VMM that needs it is added.
export { connectUnixSocket, type ConnectOptions } from './unix-socket.js';
export { waitForSocketPath } from './wait-path.js';
export { connectHybridVsock, listenHybridVsock, hybridVsockListenPath, MAX_REPLY_BYTES, type HybridVsockListener } from './hybrid-vsock.js';
