// MAC addresses vessel makes up for the NICs it adds itself.
import crypto from 'node:crypto';

/** A random locally administered unicast MAC with QEMU's 52:54:00 prefix. */
export function randomMac(): string {
  return ['52', '54', '00', ...[...crypto.randomBytes(3)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
