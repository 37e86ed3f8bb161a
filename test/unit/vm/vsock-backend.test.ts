// The vsock backend's command line (vsock-backend.ts); starting it is covered by test/vm/vsock.test.ts.
import { describe, expect, it } from 'vitest';
import { GUEST_CID, TX_BUFFER_SIZE, vsockBackendArgs } from '../../../src/vm/qemu/vsock-backend.js';

describe('vsockBackendArgs', () => {
  it('one --vm with the guest CID, both sockets and the 256 KiB tx buffer', () => {
    expect(vsockBackendArgs({ socketPath: '/s/vhost-vsock.sock', udsPath: '/s/vsock.sock' })).toEqual([
      '--vm',
      `guest-cid=${GUEST_CID},socket=/s/vhost-vsock.sock,uds-path=/s/vsock.sock,tx-buffer-size=${TX_BUFFER_SIZE}`,
    ]);
    expect(GUEST_CID).toBeGreaterThanOrEqual(3);
    expect(TX_BUFFER_SIZE).toBe(262144);
  });

  it('rejects a path it could not pass (--vm has no escape for "," or "=")', () => {
    expect(() => vsockBackendArgs({ socketPath: '/s/a,b', udsPath: '/s/u' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => vsockBackendArgs({ socketPath: '/s/v', udsPath: '/s/a=b' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
