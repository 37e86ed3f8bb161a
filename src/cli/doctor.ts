// Contract: `vessel doctor` checks what running a VM needs and prints one line per item
// (status, name, what was found) plus what to do when something is missing. Exit 0 when
// vessel can run VMs (warnings allowed: e.g. no passt only disables --net), 1 otherwise.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { vesselHome } from '../host/index.js';
import { listImages, verifyImage } from '../image/index.js';
import { PASST, QEMU, VIRTIOFSD, chooseAccelerator, findTool, type HostTool } from '../vm/qemu/index.js';
import { isVesselError } from '../errors/index.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do about a warn or fail. */
  fix?: string;
}

const KERNEL_META = 'linux-image-cloud-amd64';

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 10_000, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout, stderr) => {
      resolve(err && !stdout ? '' : `${stdout}${stderr}`);
    });
  });
}

function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

async function toolCheck(tool: HostTool, needed: CheckStatus, forWhat: string): Promise<Check> {
  const p = findTool(tool);
  if (!p) {
    return {
      name: tool.name,
      status: needed,
      detail: `not found${forWhat ? ` (${forWhat})` : ''}`,
      fix: `apt-get install ${tool.package.split(' ')[0]} (Debian ${tool.package}), or set ${tool.env}`,
    };
  }
  const version = (await run(p, ['--version'])).split('\n')[0]?.trim();
  return { name: tool.name, status: 'ok', detail: `${p}${version ? ` (${version})` : ''}` };
}

function acceleratorCheck(): Check {
  try {
    const a = chooseAccelerator('auto');
    if (a.accelerator === 'kvm') return { name: 'accelerator', status: 'ok', detail: `kvm (${a.reason})` };
    return {
      name: 'accelerator',
      status: 'ok',
      detail: `tcg, software emulation: ${a.reason}`,
      fix: 'VMs work but boot in seconds, not milliseconds; KVM needs a host with VT-x/AMD-V (kvm_intel/kvm_amd loaded, /dev/kvm writable)',
    };
  } catch (err) {
    return { name: 'accelerator', status: 'fail', detail: (err as Error).message, fix: 'unset VESSEL_ACCEL or set it to tcg' };
  }
}

async function kernelCheck(): Promise<Check> {
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(path.join(vesselHome(), 'downloads'), { withFileTypes: true });
  } catch {
    // nothing downloaded yet
  }
  const debs = entries.filter((e) => e.isFile() && /^linux-image-.*\.deb$/.test(e.name)).map((e) => e.name);
  const policy = await run('apt-cache', ['policy', KERNEL_META]);
  const candidate = /^\s*Candidate:\s*(\S+)/m.exec(policy)?.[1];
  const cached = debs.length ? `cached: ${debs.sort().at(-1)}` : 'none cached';
  if (candidate && candidate !== '(none)') return { name: 'guest kernel', status: 'ok', detail: `${KERNEL_META} ${candidate} from apt; ${cached}` };
  if (debs.length) {
    return {
      name: 'guest kernel',
      status: 'warn',
      detail: `apt has no candidate for ${KERNEL_META}; ${cached}`,
      fix: 'apt-get update (needed to fetch a newer kernel)',
    };
  }
  return {
    name: 'guest kernel',
    status: 'fail',
    detail: `apt has no candidate for ${KERNEL_META} and none is cached`,
    fix: 'apt-get update (Debian bookworm or later sources)',
  };
}

async function imageCheck(): Promise<Check> {
  const images = await listImages();
  const current = images.find((i) => i.isDefault);
  if (!current) {
    const go = which('go');
    const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p));
    const missing = [!go && 'go (>= the version in agent/go.mod)', !busybox && 'busybox-static'].filter(Boolean);
    if (missing.length) {
      return {
        name: 'default image',
        status: 'fail',
        detail: `not built, and building it needs ${missing.join(' and ')}`,
        fix: 'bash scripts/install-deps.sh, then vessel image build',
      };
    }
    return {
      name: 'default image',
      status: 'warn',
      detail: `not built yet (${images.length} other image${images.length === 1 ? '' : 's'} cached)`,
      fix: 'built on first `vessel run`, or now with `vessel image build`',
    };
  }
  try {
    const img = await verifyImage(current.dir);
    return { name: 'default image', status: 'ok', detail: `${img.id} built and verified (kernel ${img.kernelRelease}) in ${img.dir}` };
  } catch (err) {
    const msg = isVesselError(err) ? err.message : String(err);
    return {
      name: 'default image',
      status: 'warn',
      detail: `${current.id} fails verification: ${msg}`,
      fix: 'rebuilt on first `vessel run`, or now with `vessel image build --force`',
    };
  }
}

export async function doctorChecks(): Promise<Check[]> {
  const setpriv = which('setpriv');
  return [
    acceleratorCheck(),
    await toolCheck(QEMU, 'fail', ''),
    await toolCheck(VIRTIOFSD, 'warn', 'needed for -v'),
    await toolCheck(PASST, 'warn', 'needed for --net'),
    setpriv
      ? { name: 'setpriv', status: 'ok', detail: setpriv }
      : { name: 'setpriv', status: 'fail', detail: 'not found (vessel supervises its helpers with it)', fix: 'apt-get install util-linux' },
    await kernelCheck(),
    await imageCheck(),
  ];
}

const LABEL: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' };

export async function runDoctor(argv: string[], stdout: Writable, stderr: Writable): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    stdout.write('Usage: vessel doctor\n\nChecks what running VMs needs; exit 0 when vessel can run VMs, 1 otherwise.\n');
    return 0;
  }
  if (argv.length > 0) {
    stderr.write(`vessel doctor: unexpected argument ${JSON.stringify(argv[0])}\n`);
    return 2;
  }
  const checks = await doctorChecks();
  for (const c of checks) {
    stdout.write(`${LABEL[c.status]}  ${c.name.padEnd(18)} ${c.detail}\n`);
    if (c.fix) stdout.write(`      ${''.padEnd(18)} → ${c.fix}\n`);
  }
  const failed = checks.filter((c) => c.status === 'fail');
  stdout.write(failed.length === 0 ? 'vessel can run VMs\n' : `vessel cannot run VMs: fix ${failed.map((c) => c.name).join(', ')}\n`);
  return failed.length === 0 ? 0 : 1;
}
