// The host terminal for `vessel run -t`: raw mode while the guest owns the terminal
// (restored on every exit path: explicitly, and from a process 'exit' hook as a last
// resort), and the window size the guest's pty should have.
// Node's raw mode (libuv UV_TTY_MODE_RAW) keeps output post-processing (OPOST/ONLCR) on,
// so the guest pty's "\r\n" would reach the screen as "\r\r\n"; like docker (cfmakeraw),
// vessel switches it off too, with stty on the same terminal. Leaving raw mode restores
// the terminal's original settings, OPOST included (libuv saved them).
import { spawnSync } from 'node:child_process';
import type { InputStream, OutputStream } from '../io.js';

export interface WindowSize {
  rows: number;
  cols: number;
}

/** The host terminal's size, from stdout (or stderr) when it is a terminal. */
export function windowSize(out: OutputStream, err: OutputStream): WindowSize | undefined {
  for (const s of [out, err]) {
    if (s.isTTY && s.rows && s.columns) return { rows: s.rows, cols: s.columns };
  }
  return undefined;
}

/** Puts stdin in raw mode if it is a terminal; returns the (idempotent) restore. */
export function enterRawMode(stdin: InputStream): () => void {
  if (!stdin.isTTY || typeof stdin.setRawMode !== 'function') return () => undefined;
  stdin.setRawMode(true);
  const fd = (stdin as { fd?: unknown }).fd;
  if (typeof fd === 'number') spawnSync('stty', ['-opost'], { stdio: [fd, 'ignore', 'ignore'] });
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    process.off('exit', restore);
    try {
      stdin.setRawMode!(false);
    } catch {
      // the terminal is gone (SIGHUP): nothing to restore
    }
  };
  process.once('exit', restore);
  return restore;
}
