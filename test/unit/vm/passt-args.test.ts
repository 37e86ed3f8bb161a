// passt's command line: the guest's addresses, and in a pod's network namespace the ports
// it forwards, sized to the open-files limit it inherits (one socket per forwarded port).
import { describe, expect, it } from 'vitest';
import { forwardedPorts, openFilesHardLimit, passtArgs } from '../../../src/vm/net/passt.js';

const IP = { addresses: ['10.88.0.5/16'], gateway: '10.88.0.1', mtu: 65520 };

describe('passt arguments', () => {
  it('on the host: addresses, gateway and MTU, no forwarding', () => {
    expect(passtArgs(IP)).toEqual([
      '--foreground',
      '--one-off',
      '--fd',
      '3',
      '--address',
      '10.88.0.5',
      '--netmask',
      '255.255.0.0',
      '--gateway',
      '10.88.0.1',
      '--mtu',
      '65520',
    ]);
  });

  it("in a pod's namespace: IPv4, the real gateway, and the forwarded port ranges", () => {
    expect(passtArgs(IP, { tcpTop: 16000, udpTop: 0 }).slice(12)).toEqual(['-4', '--no-map-gw', '-t', '1-16000']);
    expect(passtArgs(IP, { tcpTop: 32767, udpTop: 32767 }).slice(12)).toEqual(['-4', '--no-map-gw', '-t', '1-32767', '-u', '1-32767']);
  });

  it('forwards every non-ephemeral TCP port first, then UDP, within the open-files limit', () => {
    expect(forwardedPorts(20_000)).toEqual({ tcpTop: 16_000, udpTop: 0 });
    expect(forwardedPorts(50_000)).toEqual({ tcpTop: 32_767, udpTop: 13_233 });
    expect(forwardedPorts(1_048_576)).toEqual({ tcpTop: 32_767, udpTop: 32_767 });
    expect(forwardedPorts(1_000)).toEqual({ tcpTop: 0, udpTop: 0 });
  });

  it('reads the hard open-files limit from /proc/self/limits', () => {
    const limits =
      'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 20000                files\n';
    expect(openFilesHardLimit(limits)).toBe(20_000);
    expect(openFilesHardLimit(limits.replace('20000', 'unlimited'))).toBe(Number.MAX_SAFE_INTEGER);
    expect(openFilesHardLimit()).toBeGreaterThan(0);
  });
});
