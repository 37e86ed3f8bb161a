// Instance.Console: the logged console (console.log.1 then console.log, as far as written
// when the call began), then, with follow, live output until the instance stops or the
// client cancels. Live output cannot be paused (it is the guest's serial port), so a
// client that does not keep up loses output beyond a bounded backlog, with a marker.
import fs from 'node:fs';
import type { vmv1 } from '../gen/index.js';
import { failer } from './call-errors.js';
import type { InstanceRegistry } from './registry.js';

const CHUNK = 64 * 1024;
const MAX_BACKLOG_MESSAGES = 256;

function readPrefix(file: string, limit: number): Buffer {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(Math.min(limit, fs.fstatSync(fd).size));
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      return buf.subarray(0, n);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return Buffer.alloc(0);
  }
}

export function consoleHandler(registry: InstanceRegistry): vmv1.InstanceHandlers['Console'] {
  return (call) => {
    const fail = failer(call);
    try {
      const m = registry.get(call.request.instanceId);
      const live: Buffer[] = [];
      let dropped = 0;
      // Subscribe first, then note how much of the file exists: later output arrives live.
      let flush = () => undefined as void;
      const unsubscribe = call.request.follow
        ? m.instance.onConsole((c) => {
            if (live.length < MAX_BACKLOG_MESSAGES) live.push(Buffer.from(c));
            else dropped += c.length;
            flush();
          })
        : () => undefined;
      const path = m.instance.consoleLogPath;
      const current = (() => {
        try {
          return fs.statSync(path).size;
        } catch {
          return 0;
        }
      })();
      const logged = Buffer.concat([readPrefix(`${path}.1`, 4 << 20), readPrefix(path, current)]);
      for (let i = 0; i < logged.length; i += CHUNK) call.write({ data: logged.subarray(i, i + CHUNK) });
      if (!call.request.follow) {
        call.end();
        return;
      }
      let ended = false;
      let waitingForDrain = false;
      const finish = () => {
        if (ended) return;
        ended = true;
        unsubscribe();
        call.end();
      };
      flush = () => {
        while (live.length && !ended && !waitingForDrain) {
          if (dropped) {
            call.write({ data: Buffer.from(`\n[vessel: ${dropped} bytes of console output dropped: the client did not keep up]\n`) });
            dropped = 0;
          }
          if (!call.write({ data: live.shift()! })) {
            waitingForDrain = true;
            call.once('drain', () => {
              waitingForDrain = false;
              flush();
            });
          }
        }
      };
      call.on('cancelled', () => {
        ended = true;
        unsubscribe();
      });
      m.instance.whenStopped().then(
        () => {
          flush();
          finish();
        },
        () => undefined,
      );
      flush();
    } catch (err) {
      fail(err);
    }
  };
}
