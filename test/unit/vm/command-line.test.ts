// The QEMU command line built from a launch plan (machine.md's line, devices per config).
import { describe, expect, it } from 'vitest';
import { kernelCommandLine, qemuArgs, type LaunchPlan } from '../../../src/vm/qemu/command-line.js';
import { featureProperties } from '../../../src/vm/nic-features.js';

const base: LaunchPlan = {
  machine: 'microvm',
  accelerator: 'tcg',
  cpus: 2,
  ramMiB: 256,
  kernelPath: '/k',
  initrdPath: '/i',
  cmdline: 'c',
  agentSocket: '/s/agent.sock',
  qmpSocket: '/s/qmp.sock',
  consoleSocket: '/s/console.sock',
  shares: [],
  disks: [],
  nics: [],
};

function optionAfter(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));
}

describe('qemuArgs', () => {
  it('a restore maps the snapshot RAM file privately and waits for the state (-incoming defer)', () => {
    const a = qemuArgs({ ...base, ramFile: '/snap,1/ram', incoming: true });
    expect(optionAfter(a, '-object')).toEqual(['memory-backend-file,id=mem,size=256M,mem-path=/snap,,1/ram,share=off']);
    expect(optionAfter(a, '-incoming')).toEqual(['defer']);
    expect(optionAfter(qemuArgs(base), '-incoming')).toEqual([]);
  });

  it('microvm with the fixes machine.md lists, shared memfd memory, QMP and the agent port', () => {
    const a = qemuArgs(base);
    expect(optionAfter(a, '-M')).toEqual(['microvm,x-option-roms=off,isa-serial=on,rtc=on,acpi=on,memory-backend=mem']);
    expect(optionAfter(a, '-global')).toEqual(['virtio-mmio.force-legacy=false']);
    expect(optionAfter(a, '-cpu')).toEqual(['max,erms=off,fsrm=off']);
    expect(optionAfter(a, '-smp')).toEqual(['2']);
    expect(optionAfter(a, '-object')).toEqual(['memory-backend-memfd,id=mem,size=256M,share=on']);
    expect(optionAfter(a, '-qmp')).toEqual(['unix:/s/qmp.sock,server=on,wait=off']);
    expect(optionAfter(a, '-device')).toEqual(['virtio-serial-device', 'virtserialport,chardev=agent,name=vessel.agent', 'pvpanic']);
    expect(a).toContain('-no-reboot');
    // a guest panic ends QEMU with status 1 (and a GUEST_PANICKED event)
    expect(optionAfter(a, '-action')).toEqual(['panic=exit-failure']);
  });

  it('the console is a serial port on a socket QEMU serves (a later owner can reconnect); the vCPUs wait for QMP cont', () => {
    const a = qemuArgs(base);
    expect(optionAfter(a, '-serial')).toEqual(['chardev:console']);
    expect(optionAfter(a, '-chardev')).toContain('socket,id=console,path=/s/console.sock,server=on,wait=off');
    expect(optionAfter(a, '-chardev')).toContain('socket,id=agent,path=/s/agent.sock,server=on,wait=off');
    expect(a).toContain('-S');
    expect(a.join(' ')).not.toContain('stdio');
  });

  it('q35 uses PCI devices and KVM uses -cpu host', () => {
    const a = qemuArgs({ ...base, machine: 'q35', accelerator: 'kvm', shares: [{ tag: 't', socketPath: '/s/fs.sock' }] });
    expect(optionAfter(a, '-M')).toEqual(['q35,memory-backend=mem']);
    expect(optionAfter(a, '-cpu')).toEqual(['host']);
    expect(optionAfter(a, '-device')).toContain('vhost-user-fs-pci,chardev=fs0,tag=t');
    expect(optionAfter(a, '-device')).toContain('virtio-serial-pci');
  });

  it('vsock: a vhost-user-vsock device on the backend socket (no guest-cid on the QEMU side), only when planned', () => {
    expect(qemuArgs(base).join(' ')).not.toContain('vsock');
    const a = qemuArgs({ ...base, vsockSocket: '/s/a,b/vsock.sock' });
    expect(optionAfter(a, '-chardev')).toContain('socket,id=vsock,path=/s/a,,b/vsock.sock');
    expect(optionAfter(a, '-device')).toContain('vhost-user-vsock-device,chardev=vsock');
    expect(optionAfter(a, '-object')).toEqual(['memory-backend-memfd,id=mem,size=256M,share=on']);
    expect(optionAfter(qemuArgs({ ...base, machine: 'q35', vsockSocket: '/s/v' }), '-device')).toContain('vhost-user-vsock-pci,chardev=vsock');
  });

  it('disks carry the block id as serial and honour read-only; commas in paths are escaped', () => {
    const a = qemuArgs({
      ...base,
      disks: [
        { blockId: 'root', path: '/d/a,b.img', format: 'raw', readOnly: false },
        { blockId: 'data', path: '/d/c.vmdk', format: 'vmdk', readOnly: true },
      ],
    });
    expect(optionAfter(a, '-drive')).toEqual(['file=/d/a,,b.img,format=raw,if=none,id=disk0', 'file=/d/c.vmdk,format=vmdk,if=none,id=disk1,readonly=on']);
    expect(optionAfter(a, '-device')).toContain('virtio-blk-device,drive=disk0,serial=root');
    expect(optionAfter(a, '-device')).toContain('virtio-blk-device,drive=disk1,serial=data');
  });

  it('NICs: stream to a unix socket or an inherited fd, datagram between two paths, features as properties', () => {
    const a = qemuArgs({
      ...base,
      nics: [
        { mac: '52:54:00:00:00:01', mode: 'unixstream', endpoint: '/n/passt.sock', features: 1 },
        { mac: '52:54:00:00:00:02', mode: 'unixgram', endpoint: '/n/gv.sock', localPath: '/s/net-1.sock', features: undefined },
        { mac: '52:54:00:00:00:03', mode: 'unixstream', fd: 3, features: undefined },
      ],
    });
    expect(optionAfter(a, '-netdev')).toEqual([
      'stream,id=net0,server=off,addr.type=unix,addr.path=/n/passt.sock',
      'dgram,id=net1,local.type=unix,local.path=/s/net-1.sock,remote.type=unix,remote.path=/n/gv.sock',
      'stream,id=net2,server=off,addr.type=fd,addr.str=3',
    ]);
    const devices = optionAfter(a, '-device');
    expect(devices).toContain(`virtio-net-device,netdev=net0,mac=52:54:00:00:00:01,${featureProperties(1).join(',')}`);
    expect(devices).toContain('virtio-net-device,netdev=net1,mac=52:54:00:00:00:02');
    expect(featureProperties(1)).toContain('csum=on');
    expect(featureProperties(1)).toContain('host_tso4=off');
  });
});

describe('kernelCommandLine', () => {
  it('adds tsc_early_khz on microvm, the hostname and init args', () => {
    expect(kernelCommandLine({ machine: 'microvm', tscKhz: 2400000, hostname: 'vm1', initArgs: ['vessel.debug=1'] })).toBe(
      'console=ttyS0 panic=-1 reboot=t quiet cryptomgr.notests tsc_early_khz=2400000 vessel.hostname=vm1 vessel.debug=1',
    );
    expect(kernelCommandLine({ machine: 'q35', tscKhz: 2400000, hostname: 'vm1', initArgs: [] })).not.toContain('tsc_early_khz');
  });
});
