// Host groups (src/host/group.ts): names resolve as getent resolves them; whether a group
// can search its way down to a directory.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupId, unreachableBy } from '../../../src/host/index.js';
import { makePrivateTempDir } from '../../support/tmpdir.js';

let tmp: { dir: string; remove: () => Promise<void> };

beforeAll(async () => {
  tmp = await makePrivateTempDir('group');
});

afterAll(async () => {
  await tmp?.remove();
});

describe('groupId', () => {
  it('resolves a group name (root is gid 0 everywhere); unknown or malformed names are undefined', () => {
    expect(groupId('root')).toBe(0);
    expect(groupId('no-such-group-vessel')).toBeUndefined();
    expect(groupId('')).toBeUndefined();
    expect(groupId('root:x')).toBeUndefined();
    expect(groupId('-s')).toBeUndefined();
  });
});

describe('unreachableBy', () => {
  it('names the first directory the group may not search', () => {
    const gid = process.getgid!(); // one chown may give without privileges
    const base = fs.realpathSync(tmp.dir);
    const a = path.join(base, 'a');
    const b = path.join(a, 'b');
    fs.mkdirSync(b, { recursive: true });
    fs.chmodSync(base, 0o711);
    fs.chmodSync(a, 0o700);
    fs.chmodSync(b, 0o755);
    expect(unreachableBy(gid, b)).toBe(a);
    fs.chownSync(a, -1, gid);
    fs.chmodSync(a, 0o710);
    expect(unreachableBy(gid, b)).toBe(undefined);
    expect(unreachableBy(gid + 1, b)).toBe(a);
    fs.chmodSync(base, 0o700);
    expect(unreachableBy(gid, b)).toBe(base);
  });
});
