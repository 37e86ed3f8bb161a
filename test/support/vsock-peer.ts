// The guest side of the vsock tests and bench/vsock-raw: agent/cmd/vessel-vsockpeer (see its
// header for `serve`, `serial`, `dial` and the operations), built static, then shared into the
// guest (virtio-fs) or copied in through an exec's stdin, and started by an agent exec.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { execWithStreams, type AgentClient, type GuestExec } from '../../src/agent/index.js';
import { defaultAgentDir } from '../../src/image/repo.js';

const execFileAsync = promisify(execFile);
// (found from the repository root, so that this works from test/ and from dist/test/ alike)
const agentDir = defaultAgentDir();
export const VSOCK_PEER = 'vessel-vsockpeer';

/** Builds the peer (static, no cgo) into `dir`; returns its path. */
export async function buildVsockPeer(dir: string): Promise<string> {
  const out = path.join(dir, VSOCK_PEER);
  await execFileAsync('go', ['build', '-trimpath', '-ldflags', '-s -w', '-o', out, `./cmd/${VSOCK_PEER}`], {
    cwd: agentDir,
    env: { ...process.env, CGO_ENABLED: '0' },
  });
  return out;
}

/** Copies the host file `hostPath` to the executable guest file `guestPath` (through `cat`'s stdin). */
export async function copyIntoGuest(agent: AgentClient, hostPath: string, guestPath: string): Promise<void> {
  const exec = await execWithStreams(agent, { args: ['/bin/sh', '-c', `cat > ${guestPath} && chmod 755 ${guestPath}`] }, { stdin: 'open' });
  exec.stdin!.end(fs.readFileSync(hostPath));
  const status = await exec.exited;
  exec.close();
  if (status.exitCode !== 0) throw new Error(`copying ${hostPath} into the guest as ${guestPath}: exit ${status.exitCode}`);
}

/**
 * Waits (bounded) until the guest's vsock transport module is loaded: the agent loads all but
 * its transport's modules after it first answers, so a fresh guest may not have AF_VSOCK yet.
 */
export async function waitForGuestVsock(agent: AgentClient, timeoutMs = 20_000): Promise<void> {
  const script = `i=0; until [ -d /sys/module/vmw_vsock_virtio_transport ]; do i=$((i + 1)); [ $i -gt ${Math.ceil(timeoutMs / 50)} ] && exit 1; sleep 0.05; done`;
  const exec = await execWithStreams(agent, { args: ['/bin/sh', '-c', script] });
  const status = await exec.exited;
  exec.close();
  if (status.exitCode !== 0) throw new Error(`the guest has no vmw_vsock_virtio_transport module after ${timeoutMs} ms`);
}

/** Starts the peer with `args` in the guest; resolves once it printed READY (bounded), rejects with its output if it exits first. */
export async function startPeerInGuest(agent: AgentClient, args: string[], timeoutMs = 20_000): Promise<GuestExec> {
  const exec = await execWithStreams(agent, { args }, { stdout: 'open', stderr: 'open' });
  let out = '';
  let err = '';
  exec.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${args.join(' ')}: no READY within ${timeoutMs} ms: ${out}${err}`)), timeoutMs);
      exec.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('READY\n')) {
          clearTimeout(timer);
          resolve();
        }
      });
      // (after READY its end, or the agent connection's, is the caller's business)
      exec.exited.then(
        (s) => {
          clearTimeout(timer);
          reject(new Error(`${args.join(' ')} exited (${s.exitCode}) before READY: ${out}${err}`));
        },
        (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });
  } catch (e) {
    exec.close();
    throw e;
  }
  return exec;
}

/** `vessel-vsockpeer serve port` from the guest path `guestBinary`, listening. */
export function serveInGuest(agent: AgentClient, guestBinary: string, port: number): Promise<GuestExec> {
  return startPeerInGuest(agent, [guestBinary, 'serve', String(port)]);
}
