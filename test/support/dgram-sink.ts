// A host unix datagram socket (what gvproxy/vfkit expose) that records the Ethernet frames
// a VM's `unixgram` NIC sends: Node has no AF_UNIX datagram sockets, so the peer is a small
// Python program (python3 is on every machine of this kind) that prints one JSON line per
// frame. It dies with the test process (pdeathsig).
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';

export interface Frame {
  length: number;
  src: string;
  dst: string;
  ethertype: number;
}

const PROGRAM = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps({"ready": True}), flush=True)
while True:
    d = s.recv(65536)
    if len(d) < 14:
        continue
    mac = lambda b: ":".join("%02x" % x for x in b)
    print(json.dumps({"length": len(d), "dst": mac(d[0:6]), "src": mac(d[6:12]), "ethertype": int.from_bytes(d[12:14], "big")}), flush=True)
`;

export class DgramSink {
  readonly frames: Frame[] = [];
  private readonly waiters = new Set<() => void>();
  private constructor(private readonly child: ChildProcess) {}

  static async start(socketPath: string): Promise<DgramSink> {
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'python3', '-c', PROGRAM, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
    const sink = new DgramSink(child);
    const lines = readline.createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`datagram sink exited (${code})`)));
      lines.on('line', (line) => {
        const msg = JSON.parse(line) as Frame & { ready?: boolean };
        if (msg.ready) return resolve();
        sink.frames.push(msg);
        for (const w of sink.waiters) w();
      });
    });
    return sink;
  }

  /** Resolves with the first recorded frame matching `pred` (waiting for it up to timeoutMs). */
  waitFor(pred: (f: Frame) => boolean, timeoutMs = 30_000): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const f = this.frames.find(pred);
        if (f) {
          cleanup();
          resolve(f);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching frame among ${this.frames.length}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGKILL');
      await exited;
    }
  }
}
