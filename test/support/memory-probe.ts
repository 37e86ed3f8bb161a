// Samples this process's memory while something runs, to show a figure stays bounded.
// Each sample first forces a garbage collection, so the figure is memory still held
// (buffered, referenced), not garbage the collector has not reached yet.
import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;
export interface MemoryFigure {
  baselineMiB: number;
  peakMiB: number;
  growthMiB: number;
  samples: number;
}

export class MemoryProbe {
  private readonly baseline: number;
  private peak: number;
  private samples = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 50) {
    collectGarbage();
    this.baseline = MemoryProbe.read();
    this.peak = this.baseline;
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  /** External + array-buffer memory: where stream and socket buffers live. */
  static read(): number {
    const m = process.memoryUsage();
    return m.external + m.arrayBuffers;
  }

  sample(): void {
    collectGarbage();
    this.samples++;
    this.peak = Math.max(this.peak, MemoryProbe.read());
  }

  stop(): MemoryFigure {
    clearInterval(this.timer);
    this.sample();
    const mib = (n: number) => Math.round((n / 2 ** 20) * 100) / 100;
    return { baselineMiB: mib(this.baseline), peakMiB: mib(this.peak), growthMiB: mib(this.peak - this.baseline), samples: this.samples };
  }
}
