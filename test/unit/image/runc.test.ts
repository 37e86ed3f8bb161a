// runc as an image input without building it: the Debian -dev packages it links are looked
// up with dpkg-query, and a missing one is TOOL_MISSING naming only what is missing.
import { describe, expect, it } from 'vitest';
import { isVesselError } from '../../../src/errors/index.js';
import { GoModuleRuncSource, RUNC_LINKED_PACKAGES, RUNC_VERSION, installedVersions } from '../../../src/image/runc.js';

describe('runc image input', () => {
  it('names installed package versions, and only the missing packages when some are missing', async () => {
    const v = await installedVersions(['libc6-dev']);
    expect(v['libc6-dev']).toMatch(/^\d/);
    const err = await installedVersions(['libc6-dev', 'vessel-no-such-package']).catch((e: unknown) => e);
    expect(isVesselError(err, 'TOOL_MISSING')).toBe(true);
    expect((err as Error).message).toMatch(/^vessel-no-such-package not installed: install vessel-no-such-package /);
  });

  it('resolves to the pinned module version with the linked packages and the Go version, building nothing', async () => {
    const ref = await new GoModuleRuncSource().resolve();
    expect(ref).toMatchObject({ module: 'github.com/opencontainers/runc', version: RUNC_VERSION, buildTags: expect.arrayContaining(['seccomp']) });
    expect(Object.keys(ref.linked).sort()).toEqual([...RUNC_LINKED_PACKAGES].sort());
    expect(ref.goVersion).toMatch(/^go\d/);
  });
});
