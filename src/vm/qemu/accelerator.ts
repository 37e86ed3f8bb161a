// Accelerator choice: KVM only where real hardware virtualization exists. A /dev/kvm alone
// is not enough: on these machines it is nested PVM (kvm_pvm), which hangs normal guests.
import fs from 'node:fs';
import { VesselError } from '../../errors/index.js';

export type Accelerator = 'kvm' | 'tcg';

export interface AcceleratorProbe {
  accelerator: Accelerator;
  /** Why this accelerator was chosen. */
  reason: string;
}

function read(p: string): string {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

export function probeAccelerator(): AcceleratorProbe {
  try {
    fs.accessSync('/dev/kvm', fs.constants.R_OK | fs.constants.W_OK);
  } catch {
    return { accelerator: 'tcg', reason: '/dev/kvm is missing or not accessible' };
  }
  if (fs.existsSync('/sys/module/kvm_pvm')) {
    return { accelerator: 'tcg', reason: '/dev/kvm is nested PVM (kvm_pvm), which does not run normal guests' };
  }
  const flags = new Set((/^flags\s*:(.*)$/m.exec(read('/proc/cpuinfo'))?.[1] ?? '').trim().split(/\s+/));
  if (flags.has('vmx') && fs.existsSync('/sys/module/kvm_intel')) return { accelerator: 'kvm', reason: 'Intel VT-x with kvm_intel' };
  if (flags.has('svm') && fs.existsSync('/sys/module/kvm_amd')) return { accelerator: 'kvm', reason: 'AMD-V with kvm_amd' };
  return { accelerator: 'tcg', reason: 'no hardware virtualization (no vmx/svm with kvm_intel/kvm_amd)' };
}

/** `auto` → the probe; an explicit choice is honoured (kvm is checked for /dev/kvm). */
export function chooseAccelerator(requested: Accelerator | 'auto' = 'auto'): AcceleratorProbe {
  const env = process.env.VESSEL_ACCEL;
  const want = requested !== 'auto' ? requested : env === 'kvm' || env === 'tcg' ? env : 'auto';
  if (want === 'tcg') return { accelerator: 'tcg', reason: 'requested' };
  if (want === 'kvm') {
    try {
      fs.accessSync('/dev/kvm', fs.constants.R_OK | fs.constants.W_OK);
    } catch (err) {
      throw new VesselError('INVALID_ARGUMENT', `accelerator kvm requested but /dev/kvm is not usable: ${(err as Error).message}`);
    }
    return { accelerator: 'kvm', reason: 'requested' };
  }
  return probeAccelerator();
}
