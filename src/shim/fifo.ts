// containerd's stdio FIFOs, opened so that no open can hang (containerd-shim.md): stdin
// O_RDONLY|O_NONBLOCK. Its writer may not have opened yet (ctr opens its end only once a
// reader exists): the stream must wait, not end. It does: libuv reads only when epoll
// reports the fd ready, and Linux reports a FIFO reader ready (data, or HUP = EOF) only
// once a writer that opened after it wrote or closed — never for "no writer yet". A writer
// that came and went before our open is invisible; containerd's CloseIO ends stdin then. An
// output FIFO gets a reader of our own first (O_RDONLY|O_NONBLOCK), so opening the writer
// cannot block or fail with ENXIO; that reader stays open until the writer is closed, as
// containerd's runc shim does. Streams are net.Sockets over the fds (non-blocking pipes).
import fs from 'node:fs';
import net from 'node:net';

const { O_RDONLY, O_WRONLY, O_NONBLOCK } = fs.constants;

export function openStdinFifo(path: string): net.Socket {
  const fd = fs.openSync(path, O_RDONLY | O_NONBLOCK);
  return new net.Socket({ fd, readable: true, writable: false });
}

export interface OutputFifo {
  stream: net.Socket;
  /** Closes our reader (after the writer ended). */
  release(): void;
}

export function openOutputFifo(path: string): OutputFifo {
  const reader = fs.openSync(path, O_RDONLY | O_NONBLOCK);
  let fd: number;
  try {
    fd = fs.openSync(path, O_WRONLY | O_NONBLOCK);
  } catch (err) {
    fs.closeSync(reader);
    throw err;
  }
  const stream = new net.Socket({ fd, readable: false, writable: true });
  let released = false;
  return {
    stream,
    release() {
      if (released) return;
      released = true;
      fs.closeSync(reader);
    },
  };
}
