// The real guest: boots the default image (kernel + vessel-agent + busybox) under QEMU TCG
// and drives the agent over the TypeScript yamux + ttrpc stack.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import os from 'node:os';
import { ensureDefaultImage, type GuestImage } from '../../src/image/index.js';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { execWithStreams } from '../../src/agent/index.js';
import { bootTestVm, type TestVm } from '../support/test-vm.js';
import { crc32, drain, randomPayload, writeAll } from '../support/stream-io.js';

let image: GuestImage;
let vm: TestVm;
let execCounter = 0;
const nextId = (what: string) => `${what}-${++execCounter}`;

async function runText(args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number; signal: number }> {
  const exec = await execWithStreams(vm.agent, { execId: nextId('txt'), args }, { stdout: 'open', stderr: 'open' });
  const [stdout, stderr] = [collect(exec.stdout!), collect(exec.stderr!)];
  const status = await exec.exited;
  exec.close();
  return { stdout: stdout().toString(), stderr: stderr().toString(), exitCode: status.exitCode, signal: status.signal };
}

/** Collects a stream's bytes; the returned function gives what arrived so far. */
function collect(stream: Readable): () => Buffer {
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return () => Buffer.concat(chunks);
}

describe('vessel-agent in a real VM (QEMU TCG)', () => {
  beforeAll(async () => {
    image = await ensureDefaultImage();
    vm = await bootTestVm({ kernelPath: image.kernelPath, initrdPath: image.initrdPath });
    console.log(JSON.stringify({ figure: 'test-boot', bootMs: Math.round(vm.bootMs), image: image.id }));
  }, 600_000);

  afterAll(async () => {
    await vm?.stop();
  });

  it('answers Ping with its version', async () => {
    const pong = await vm.agent.ping();
    expect(pong.agentVersion).not.toBe('');
  });

  it('Info reports the guest kernel, cpus, memory and a boot timeline', async () => {
    const info = await vm.agent.info();
    expect(info.kernelRelease).toBe(image.kernelRelease);
    expect(info.kernelRelease).not.toBe(os.release());
    expect(info.cpus).toBe(1);
    expect(Number(info.memoryTotalBytes)).toBeGreaterThan(150 * 2 ** 20);
    expect(Number(info.memoryTotalBytes)).toBeLessThanOrEqual(256 * 2 ** 20);
    const names = info.bootTimeline.map((e) => e.name);
    expect(names).toContain('ready');
    const ready = info.bootTimeline.find((e) => e.name === 'ready')!;
    expect(Number(ready.atNs)).toBeGreaterThan(0);
    console.log(JSON.stringify({ figure: 'guest-boot-timeline', timeline: info.bootTimeline.map((e) => ({ name: e.name, ms: Number(e.atNs) / 1e6 })) }));
  });

  it('Exec uname -r prints the guest kernel, not the host one', async () => {
    const r = await runText(['uname', '-r']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe(image.kernelRelease);
    expect(r.stdout.trim()).not.toBe(os.release());
  });

  it('exit codes 0 and 7, and death by signal', async () => {
    expect((await runText(['true'])).exitCode).toBe(0);
    const seven = await runText(['sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect(seven).toMatchObject({ exitCode: 7, signal: 0, stdout: 'out\n', stderr: 'err\n' });
    const killed = await runText(['sh', '-c', 'kill -9 $$']);
    expect(killed.signal).toBe(9);
  });

  it('Signal ends a running process and Wait reports the signal', async () => {
    const id = nextId('sleep');
    await vm.agent.exec({ execId: id, args: ['sleep', '1000'] });
    await vm.agent.signal(id, 15);
    const status = await vm.agent.wait(id);
    expect(status.signal).toBe(15);
    // the agent client hands on the agent's NOT_FOUND as a VesselError of that code
    await expect(vm.agent.wait('no-such-exec')).rejects.toMatchObject({ name: 'VesselError', code: 'NOT_FOUND' });
  });

  it('CloseStdin gives the process EOF while the stream stays open', async () => {
    const id = nextId('cat');
    const io = await vm.agent.openStream(`${id}:io`);
    let echoed = 0;
    let crc = 0;
    const seen = new Set<() => void>();
    io.on('data', (c: Buffer) => {
      echoed += c.length;
      crc = crc32(c, crc);
      for (const f of seen) f();
    });
    const ended = new Promise<void>((resolve) => io.once('end', resolve));
    await vm.agent.exec({ execId: id, args: ['cat'], stdinStream: `${id}:io`, stdoutStream: `${id}:io` });
    const payload = randomPayload(200_000);
    await writeAll(io, payload, 64 * 1024, false); // no FIN: EOF must come from CloseStdin
    // CloseStdin travels on the control stream, not behind the data: wait until cat has
    // echoed everything, then close its stdin while our side of the stream stays open
    await new Promise<void>((resolve) => {
      const f = () => {
        if (echoed >= payload.length) {
          seen.delete(f);
          resolve();
        }
      };
      seen.add(f);
      f();
    });
    await vm.agent.closeStdin(id);
    const status = await vm.agent.wait(id);
    expect(status.exitCode).toBe(0);
    await ended; // the agent FINs stdout after cat exits, though we never FINed stdin
    expect(io.writableEnded).toBe(false);
    expect(echoed).toBe(payload.length);
    expect(crc).toBe(crc32(payload));
    io.end();
  });

  it('a TTY exec sees its size and the resize', async () => {
    const id = nextId('tty');
    const io = await vm.agent.openStream(`${id}:tty`);
    let text = '';
    io.on('data', (c: Buffer) => {
      text += c.toString();
    });
    await vm.agent.exec({
      execId: id,
      args: ['sh', '-c', 'stty size; read x; stty size'],
      terminal: true,
      rows: 24,
      cols: 80,
      stdinStream: `${id}:tty`,
      stdoutStream: `${id}:tty`,
    });
    const seen = (s: string) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (text.includes(s)) {
            io.off('data', check);
            resolve();
          }
        };
        io.on('data', check);
        check();
      });
    await seen('24 80');
    await vm.agent.resizePty(id, 40, 100);
    io.write('\n');
    await seen('40 100');
    const status = await vm.agent.wait(id);
    expect(status.exitCode).toBe(0);
    io.end();
  });

  it('8 parallel raw streams, 32 KiB to 32 MiB, CRC-checked through guest processes', async () => {
    const sizes = [32 * 1024, 100_000, 512 * 1024, 1 << 20, 3 << 20, 7 << 20, 16 << 20, 32 << 20];
    const started = performance.now();
    const results = await Promise.all(
      sizes.map(async (size) => {
        const id = nextId('par');
        const io = await vm.agent.openStream(`${id}:io`);
        const echoed = drain(io);
        await vm.agent.exec({ execId: id, args: ['cat'], stdinStream: `${id}:io`, stdoutStream: `${id}:io` });
        const payload = randomPayload(size);
        await writeAll(io, payload);
        const status = await vm.agent.wait(id);
        return { size, sent: crc32(payload), got: await echoed, status };
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const total = sizes.reduce((a, b) => a + b, 0);
    let mismatches = 0;
    for (const r of results) {
      expect(r.status.exitCode).toBe(0);
      if (r.got.bytes !== r.size || r.got.crc32 !== r.sent) mismatches++;
    }
    console.log(JSON.stringify({ figure: 'vm-raw-parallel', mib: total / 2 ** 20, seconds, mibpsEachWay: total / 2 ** 20 / seconds, mismatches }));
    expect(mismatches).toBe(0);
  }, 300_000);

  it('a tcp:PORT stream reaches a server inside the guest', async () => {
    const setup = await runText([
      'sh',
      '-c',
      'mkdir -p /tmp/www && echo hello-from-guest > /tmp/www/index.html && busybox httpd -p 127.0.0.1:8080 -h /tmp/www',
    ]);
    expect(setup.exitCode).toBe(0);
    const s = await vm.agent.openStream('tcp:8080');
    const reply = drain(s, 0);
    await writeAll(s, Buffer.from('GET /index.html HTTP/1.0\r\nHost: guest\r\n\r\n'), 1024, false);
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    await reply;
    const text = Buffer.concat(chunks).toString();
    expect(text).toMatch(/^HTTP\/1\.[01] 200/);
    expect(text).toContain('hello-from-guest');
  });

  it('no zombie is left after 100 short execs', async () => {
    for (let i = 0; i < 100; i++) {
      const id = nextId('short');
      await vm.agent.exec({ execId: id, args: ['true'] });
      expect((await vm.agent.wait(id)).exitCode).toBe(0);
    }
    const r = await runText([
      'sh',
      '-c',
      'for s in /proc/[0-9]*/stat; do read -r line < "$s" 2>/dev/null && set -- $line && [ "$3" = Z ] && echo "$1"; done; true',
    ]);
    expect(r.stdout.trim()).toBe('');
  }, 300_000);

  describe('execWithStreams (the one exec-with-stdio path)', () => {
    it('keeps stdout and stderr apart and resolves exited only after all output arrived', async () => {
      const exec = await execWithStreams(
        vm.agent,
        { args: ['sh', '-c', 'head -c 3000000 /dev/zero; echo err >&2; exit 4'] },
        { stdout: 'open', stderr: 'open' },
      );
      expect(exec.pid).toBeGreaterThan(1);
      expect(exec.stdin).toBeUndefined();
      const [out, err] = [collect(exec.stdout!), collect(exec.stderr!)];
      const status = await exec.exited;
      expect(status).toMatchObject({ exitCode: 4, signal: 0 });
      expect(out().length).toBe(3_000_000);
      expect(err().toString()).toBe('err\n');
      exec.close();
    });

    it('stdin: an opened stream carries bytes and closeStdin is EOF', async () => {
      const exec = await execWithStreams(vm.agent, { args: ['sh', '-c', 'cat; echo done'] }, { stdin: 'open', stdout: 'open' });
      const out = collect(exec.stdout!);
      const payload = randomPayload(200_000);
      await writeAll(exec.stdin!, payload, 64 * 1024, false);
      await exec.closeStdin();
      expect((await exec.exited).exitCode).toBe(0);
      expect(out().equals(Buffer.concat([payload, Buffer.from('done\n')]))).toBe(true);
      exec.close();
    });

    it('a terminal: stdin rides the stdout stream; resize reaches the pty', async () => {
      const exec = await execWithStreams(
        vm.agent,
        { args: ['sh', '-c', 'stty size; read x; stty size'], terminal: true, rows: 24, cols: 80 },
        { stdout: 'open', stdin: 'stdout' },
      );
      expect(exec.stdin).toBe(exec.stdout);
      expect(exec.stderr).toBeUndefined();
      const out = collect(exec.stdout!);
      await vi.waitFor(() => expect(out().toString()).toContain('24 80'), { timeout: 10_000 });
      await exec.resize(40, 120);
      exec.stdin!.write('\n');
      expect((await exec.exited).exitCode).toBe(0);
      expect(out().toString()).toMatch(/24 80[\s\S]*40 120/);
      exec.close();
    });

    it('uses a stream the caller claimed itself (and opens none of its own for it)', async () => {
      const id = nextId('own');
      const mine = await vm.agent.openStream(`${id}:mine`);
      const got = collect(mine);
      const exec = await execWithStreams(vm.agent, { execId: id, args: ['echo', 'to-my-stream'] }, { stdout: { id: `${id}:mine` } });
      expect(exec.stdout).toBeUndefined();
      expect((await exec.exited).exitCode).toBe(0);
      await finished(mine, { writable: false }); // the agent FINs it once the output is drained
      expect(got().toString()).toBe('to-my-stream\n');
      mine.end();
    });

    it('a program the guest lacks is COMMAND_NOT_FOUND, one it cannot execute COMMAND_NOT_EXECUTABLE; the streams opened for it are closed', async () => {
      const before = vm.agent.session.numStreams;
      await expect(execWithStreams(vm.agent, { args: ['/no/such/program'] }, { stdout: 'open', stderr: 'open', stdin: 'open' })).rejects.toMatchObject({
        name: 'VesselError',
        code: 'COMMAND_NOT_FOUND',
      });
      await expect(execWithStreams(vm.agent, { args: ['/proc/version'] }, { stdout: 'open' })).rejects.toMatchObject({
        name: 'VesselError',
        code: 'COMMAND_NOT_EXECUTABLE',
      });
      await expect(execWithStreams(vm.agent, { args: ['true'], cwd: '/no/such/dir' }, { stdout: 'open' })).rejects.toMatchObject({
        code: 'COMMAND_NOT_EXECUTABLE',
      });
      await vi.waitFor(() => expect(vm.agent.session.numStreams).toBe(before), { timeout: 5_000 });
    });
  });
  it('Shutdown powers the VM off and QEMU exits 0', async () => {
    await vm.agent.shutdown();
    const { code } = await vm.exited;
    expect(code).toBe(0);
  }, 120_000);
});
