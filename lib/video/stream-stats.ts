/** Per-stream counters, windowed for rates and latency percentiles. */
import { percentile } from '../util/statistics';
import type { SourceState, StreamStats } from './types';

export class StreamCounters {
  framesIn = 0;
  framesProcessed = 0;
  dropped = 0;
  skipped = 0;
  private windowIn = 0;
  private windowProcessed = 0;
  private latencies: number[] = [];
  private windowStart = Date.now();
  private cpuAtWindowStart = 0;

  constructor(private readonly cpuNow: () => number) {
    this.cpuAtWindowStart = cpuNow();
  }

  frameIn(): void {
    this.framesIn++;
    this.windowIn++;
  }

  processed(latencyMs: number): void {
    this.framesProcessed++;
    this.windowProcessed++;
    this.latencies.push(latencyMs);
  }

  /** The figures since the last snapshot, then start a new window. */
  snapshot(
    stream: string,
    state: SourceState,
    queued: number,
    size: { width: number; height: number },
    reconnects: number,
    cores: number,
  ): StreamStats & { intervalMs: number } {
    const now = Date.now();
    const seconds = Math.max(1e-3, (now - this.windowStart) / 1000);
    const cpu = this.cpuNow();
    const decoderCpu = Math.max(0, cpu - this.cpuAtWindowStart) / seconds;
    const sorted = this.latencies.sort((a, b) => a - b);
    const stats = {
      stream,
      state,
      fpsIn: this.windowIn / seconds,
      fpsProcessed: this.windowProcessed / seconds,
      dropped: this.dropped,
      skipped: this.skipped,
      framesIn: this.framesIn,
      framesProcessed: this.framesProcessed,
      latencyP50Ms: percentile(sorted, 0.5),
      latencyP99Ms: percentile(sorted, 0.99),
      queued,
      decoderCpu,
      decoderCpuShare: decoderCpu / cores,
      width: size.width,
      height: size.height,
      reconnects,
      intervalMs: now - this.windowStart,
    };
    this.windowStart = now;
    this.windowIn = 0;
    this.windowProcessed = 0;
    this.latencies = [];
    this.cpuAtWindowStart = cpu;
    return stats;
  }
}
