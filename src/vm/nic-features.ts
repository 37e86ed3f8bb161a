// NIC features and flags as the seed passes them (libkrun's NET_FEATURE_* / NET_FLAG_*).
// NET_FEATURE_* values are 1 << (virtio-net feature bit), so each maps to the QEMU
// virtio-net device property that controls that feature bit.
import { VesselError } from '../errors/index.js';

/** virtio-net feature bit → QEMU virtio-net device property. */
export const FEATURE_PROPERTIES: ReadonlyArray<readonly [bit: number, property: string]> = [
  [0, 'csum'], // VIRTIO_NET_F_CSUM, NET_FEATURE_CSUM
  [1, 'guest_csum'], // VIRTIO_NET_F_GUEST_CSUM, NET_FEATURE_GUEST_CSUM
  [7, 'guest_tso4'], // VIRTIO_NET_F_GUEST_TSO4
  [8, 'guest_tso6'], // VIRTIO_NET_F_GUEST_TSO6
  [9, 'guest_ecn'], // VIRTIO_NET_F_GUEST_ECN
  [10, 'guest_ufo'], // VIRTIO_NET_F_GUEST_UFO
  [11, 'host_tso4'], // VIRTIO_NET_F_HOST_TSO4
  [12, 'host_tso6'], // VIRTIO_NET_F_HOST_TSO6
  [13, 'host_ecn'], // VIRTIO_NET_F_HOST_ECN
  [14, 'host_ufo'], // VIRTIO_NET_F_HOST_UFO
  [15, 'mrg_rxbuf'], // VIRTIO_NET_F_MRG_RXBUF
];

const KNOWN_MASK = FEATURE_PROPERTIES.reduce((m, [bit]) => m | (1 << bit), 0);

export function validateNicFeatures(features: number | undefined, flags: number | undefined): void {
  if (features !== undefined) {
    if (!Number.isInteger(features) || features < 0 || features > 0xffffffff) {
      throw new VesselError('INVALID_ARGUMENT', `NIC features must be a 32-bit unsigned bit mask, got ${features}`);
    }
    const unknown = features & ~KNOWN_MASK;
    if (unknown !== 0) {
      throw new VesselError(
        'INVALID_ARGUMENT',
        `NIC feature bits 0x${(unknown >>> 0).toString(16)} are not supported; supported: ${FEATURE_PROPERTIES.map(([b, p]) => `${p}=1<<${b}`).join(', ')}`,
      );
    }
  }
  if (flags !== undefined && flags !== 0) {
    throw new VesselError(
      'INVALID_ARGUMENT',
      `NIC flags 0x${(flags >>> 0).toString(16)} are not supported by the QEMU backend (NET_FLAG_VFKIT: use gvproxy's QEMU stream mode with mode "unixstream" instead)`,
    );
  }
}

/** `prop=on|off` device properties for an explicit feature mask (none when undefined). */
export function featureProperties(features: number | undefined): string[] {
  if (features === undefined) return [];
  return FEATURE_PROPERTIES.map(([bit, prop]) => `${prop}=${(features & (1 << bit)) !== 0 ? 'on' : 'off'}`);
}
