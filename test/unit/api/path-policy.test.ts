// PathPolicy (src/api/path-policy.ts) on a real directory tree: symlinks resolved (a link
// to `/` refused), `..`, the /srv/data2-vs-/srv/data prefix trick, disks only as regular
// raw files, no existence leak outside the allowed dirs, and the recheck before Start.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PathPolicy } from '../../../src/api/index.js';
import { isWithin } from '../../../src/api/path-policy.js';
import { VesselError } from '../../../src/errors/index.js';
import { makePrivateTempDir } from '../../support/tmpdir.js';

let tmp: { dir: string; remove: () => Promise<void> };
/** <tmp>/srv/data: the allowed dir. */
let data: string;
let policy: PathPolicy;

beforeAll(async () => {
  tmp = await makePrivateTempDir('path-policy');
  // realpath: os.tmpdir() may itself sit behind a symlink
  const root = fs.realpathSync(tmp.dir);
  data = path.join(root, 'srv', 'data');
  fs.mkdirSync(path.join(data, 'sub'), { recursive: true });
  fs.mkdirSync(path.join(root, 'srv', 'data2'));
  fs.writeFileSync(path.join(root, 'srv', 'data2', 'disk.img'), 'x');
  fs.writeFileSync(path.join(root, 'outside.img'), 'x');
  fs.writeFileSync(path.join(data, 'disk.img'), Buffer.alloc(4096));
  fs.writeFileSync(path.join(data, 'disk.vmdk'), '# Disk DescriptorFile\nRW 8 FLAT "/etc/shadow" 0\n');
  fs.symlinkSync('/', path.join(data, 'root'));
  fs.symlinkSync('../data2', path.join(data, 'sibling'));
  fs.symlinkSync('sub', path.join(data, 'inner'));
  fs.symlinkSync(path.join(root, 'outside.img'), path.join(data, 'outside-link.img'));
  fs.symlinkSync(path.join(root, 'nowhere'), path.join(data, 'dangling'));
  execFileSync('mkfifo', [path.join(data, 'fifo')]);
  policy = PathPolicy.under([data]);
});

afterAll(async () => {
  await tmp?.remove();
});

async function refusal(p: Promise<unknown>): Promise<VesselError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof VesselError)) throw new Error(`expected a VesselError, got ${String(err)}`);
  return err;
}

const share = (hostPath: string) => policy.check({ call: 'AddFS', hostPath });
const disk = (hostPath: string, vmdk = false) => policy.check({ call: 'AddDisk', hostPath, vmdk });

describe('isWithin', () => {
  it('by whole components; / holds everything', () => {
    expect(isWithin('/srv/data', '/srv/data')).toBe(true);
    expect(isWithin('/srv/data/x', '/srv/data')).toBe(true);
    expect(isWithin('/srv/data2', '/srv/data')).toBe(false);
    expect(isWithin('/srv/dat', '/srv/data')).toBe(false);
    expect(isWithin('/etc', '/')).toBe(true);
  });
});

describe('PathPolicy.under', () => {
  it('allows the dir itself and what lies below it, handing on the realpath', async () => {
    expect(await share(data)).toBe(data);
    expect(await share(path.join(data, 'sub'))).toBe(path.join(data, 'sub'));
    expect(await share(path.join(data, 'inner'))).toBe(path.join(data, 'sub'));
    expect(await share(path.join(data, 'sub', '..', 'sub'))).toBe(path.join(data, 'sub'));
    expect(await disk(path.join(data, 'disk.img'))).toBe(path.join(data, 'disk.img'));
  });

  it('a symlink inside an allowed dir that points at / is refused, naming the path and where it leads', async () => {
    const err = await refusal(share(path.join(data, 'root')));
    expect(err.code).toBe('PERMISSION_DENIED');
    expect(err.message).toBe(`AddFS: host path "${path.join(data, 'root')}" resolves to /, which is outside the allowed paths (--allow-path ${data})`);
    expect((await refusal(share(path.join(data, 'root', 'etc')))).code).toBe('PERMISSION_DENIED');
    expect((await refusal(disk(path.join(data, 'outside-link.img')))).code).toBe('PERMISSION_DENIED');
  });

  it('.. out of the allowed dir is refused', async () => {
    const up = await refusal(share(path.join(data, '..')));
    expect(up.code).toBe('PERMISSION_DENIED');
    expect(up.message).toMatch(/outside the allowed paths/);
    expect((await refusal(share(path.join(data, 'sub', '..', '..', '..')))).code).toBe('PERMISSION_DENIED');
    expect((await refusal(disk(path.join(data, '..', '..', 'outside.img')))).code).toBe('PERMISSION_DENIED');
  });

  it('a sibling sharing the allowed dir as a name prefix (/srv/data2 vs /srv/data) is refused, directly or by a link', async () => {
    const data2 = `${data}2`;
    expect((await refusal(share(data2))).code).toBe('PERMISSION_DENIED');
    expect((await refusal(disk(path.join(data2, 'disk.img')))).code).toBe('PERMISSION_DENIED');
    const viaLink = await refusal(share(path.join(data, 'sibling')));
    expect(viaLink.code).toBe('PERMISSION_DENIED');
    expect(viaLink.message).toContain(`resolves to ${data2}`);
  });

  it('a disk must be a regular file and not a VMDK (whose descriptor names other host files)', async () => {
    for (const p of [path.join(data, 'fifo'), path.join(data, 'sub')]) {
      const err = await refusal(disk(p));
      expect({ p, code: err.code }).toEqual({ p, code: 'PERMISSION_DENIED' });
      expect(err.message).toBe(`AddDisk: host path "${p}" is not a regular file (under --allow-path a disk image must be one)`);
    }
    const vmdk = await refusal(disk(path.join(data, 'disk.vmdk'), true));
    expect(vmdk.code).toBe('PERMISSION_DENIED');
    expect(vmdk.message).toMatch(/VMDK disks are refused under --allow-path/);
  });

  it('says a path does not exist only inside the allowed dirs; outside, missing is refused like present', async () => {
    const missing = await refusal(share(path.join(data, 'missing')));
    expect(missing.code).toBe('INVALID_ARGUMENT');
    expect(missing.message).toMatch(/does not exist/);
    for (const p of ['/nonexistent-vessel-path/x', '/etc']) {
      const outside = await refusal(share(p));
      expect(outside.code).toBe('PERMISSION_DENIED');
      expect(outside.message).toBe(`AddFS: host path "${p}" is outside the allowed paths (--allow-path ${data})`);
    }
    // a dangling link inside: the client may look there, and it leads nowhere
    expect((await refusal(share(path.join(data, 'dangling')))).code).toBe('INVALID_ARGUMENT');
  });

  it('relative and empty paths are bad requests (the daemon cwd means nothing to a client)', async () => {
    expect((await refusal(share('srv/data'))).code).toBe('INVALID_ARGUMENT');
    expect((await refusal(share(''))).code).toBe('INVALID_ARGUMENT');
    expect((await refusal(share('/a\0b'))).code).toBe('INVALID_ARGUMENT');
  });

  it('an allowed dir given through a symlink allows paths by either name', async () => {
    const link = path.join(path.dirname(data), 'data-link');
    fs.symlinkSync(data, link);
    const p = PathPolicy.under([link]);
    expect(await p.check({ call: 'AddFS', hostPath: path.join(link, 'sub') })).toBe(path.join(data, 'sub'));
    expect(await p.check({ call: 'AddFS', hostPath: path.join(data, 'sub') })).toBe(path.join(data, 'sub'));
    expect(p.describe()).toEqual([data]);
  });

  it('allowed dirs must be absolute existing directories', () => {
    expect(() => PathPolicy.under([path.join(data, 'missing')])).toThrow(/no such directory/);
    expect(() => PathPolicy.under([path.join(data, 'disk.img')])).toThrow(/is not a directory/);
    expect(() => PathPolicy.under(['srv/data'])).toThrow(/must be absolute/);
    expect(() => PathPolicy.under([])).toThrow(/at least one/);
  });

  it('recheck before Start refuses a directory swapped for a link to / after AddFS', async () => {
    const swapped = path.join(data, 'swapped');
    fs.mkdirSync(swapped);
    const checked = await share(swapped);
    await policy.recheck({ shares: [{ hostPath: checked }], disks: [] });
    fs.rmdirSync(swapped);
    fs.symlinkSync('/', swapped);
    const err = await refusal(policy.recheck({ shares: [{ hostPath: checked }], disks: [] }));
    expect(err.code).toBe('PERMISSION_DENIED');
    expect(err.message).toBe(`checked again at Start: AddFS: host path "${swapped}" resolves to /, which is outside the allowed paths (--allow-path ${data})`);
  });
});

describe('PathPolicy.any and .none', () => {
  it('any: every path unchanged, as the unix socket has always served', async () => {
    const any = PathPolicy.any();
    expect(any.restricts).toBe(false);
    expect(await any.check({ call: 'AddFS', hostPath: '/' })).toBe('/');
    expect(await any.check({ call: 'AddDisk', hostPath: 'rel.img', vmdk: true })).toBe('rel.img');
  });

  it('none: every path refused with the reason', async () => {
    const none = PathPolicy.none('no --allow-path');
    expect(none.restricts).toBe(true);
    const err = await refusal(none.check({ call: 'AddDisk', hostPath: path.join(data, 'disk.img') }));
    expect(err.code).toBe('PERMISSION_DENIED');
    expect(err.message).toBe(`AddDisk: host path "${path.join(data, 'disk.img')}" refused: no --allow-path`);
  });
});
