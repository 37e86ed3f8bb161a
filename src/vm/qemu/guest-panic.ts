// Guest kernel panics. The guest has QEMU's pvpanic device (its pvpanic driver is in the
// image's module list): when the kernel panics the driver tells QEMU, which emits the QMP
// event GUEST_PANICKED and exits with status 1 (`-action panic=exit-failure`). A panic
// before the driver is loaded is still seen on the console, where the kernel prints
// "Kernel panic - not syncing: <why>" before it reboots (panic=-1; -no-reboot makes QEMU
// exit). Either way the instance fails with GUEST_PANICKED and that line. The console is
// the guest's to write to, so a guest can fake the line; it can as well crash for real.
import { VesselError } from '../../errors/index.js';
import type { QmpClient } from './qmp.js';

const PANIC_LINE = /Kernel panic - not syncing: [^\r\n]*/g;

/** The last "Kernel panic - not syncing: …" line of the console text (from that phrase on, trimmed). */
export function panicLine(consoleText: string): string | undefined {
  return consoleText.match(PANIC_LINE)?.at(-1)?.trim();
}

export function guestPanickedError(line: string | undefined): VesselError {
  return new VesselError(
    'GUEST_PANICKED',
    line !== undefined ? `the guest kernel panicked: ${line}` : 'the guest kernel panicked (QEMU reported GUEST_PANICKED; the console shows no panic line)',
  );
}

/** Whether QEMU reported a guest panic, and the failure to record once QEMU is gone. */
export class PanicWatch {
  private reported = false;

  watch(qmp: QmpClient): void {
    qmp.on('event', (e) => {
      if (e.event === 'GUEST_PANICKED') this.reported = true;
    });
  }

  /** The failure for a guest that panicked (QMP said so, or the console shows it); undefined otherwise. */
  failure(consoleText: string): VesselError | undefined {
    const line = panicLine(consoleText);
    return this.reported || line !== undefined ? guestPanickedError(line) : undefined;
  }
}
