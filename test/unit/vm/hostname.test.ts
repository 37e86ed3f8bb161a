// The one hostname rule (src/vm/validate.ts), which must be the agent's
// (agent/internal/initsys/cmdline.go validHostname; its Go test holds the same cases).
import { describe, expect, it } from 'vitest';
import { validateHostname } from '../../../src/vm/validate.js';

const ok = (name: string) => () => validateHostname(name);

describe('validateHostname', () => {
  it('takes RFC 1123 names, Kubernetes pod names, underscores and 64 bytes', () => {
    for (const name of [
      'a',
      'vessel',
      'my-pod-7f9c',
      'web_1',
      '_x',
      'a.b.c',
      'nginx-deployment-66b6c48dd5-4jw2x',
      'A1',
      `${'a'.repeat(63)}`,
      `${'a'.repeat(31)}.${'b'.repeat(32)}`,
    ]) {
      expect(ok(name), name).not.toThrow();
    }
  });

  it('refuses empty labels, edge dashes, other bytes and more than 64 bytes (INVALID_ARGUMENT)', () => {
    for (const name of ['', '-a', 'a-', 'a..b', 'a.', '.a', 'a.-b', 'a b', 'a/b', 'ä', 'a\n', `${'a'.repeat(64)}`, `${'a'.repeat(32)}.${'b'.repeat(32)}`]) {
      expect(ok(name), JSON.stringify(name)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });
});
