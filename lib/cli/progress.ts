/**
 * Progress of long work on stderr: a one-line bar redrawn in place on a terminal; where stderr is
 * not a terminal (CI logs, pipes) either nothing, or, for commands that run for minutes
 * (`logLines`), a plain line now and then so a log shows the work is alive.
 */
export interface ProgressOptions {
  /** Off a terminal, print a line at each tenth of the work and at least every LOG_INTERVAL_MS (default false: silent). */
  logLines?: boolean;
  /** Put before each logged line, e.g. 'int8-detect quantize: '. */
  prefix?: string;
  /** When the work began (ms since the epoch), for the rate; default: now. */
  started?: number;
}

const LOG_INTERVAL_MS = 10_000;

export class ProgressBar {
  private readonly started: number;
  private lastDraw = 0;
  private lastLoggedStep = -1;
  private readonly mode: 'bar' | 'lines' | 'off';
  private readonly stream: NodeJS.WriteStream;
  private readonly prefix: string;

  constructor(
    private readonly label: string,
    private readonly total: number,
    stream: NodeJS.WriteStream = process.stderr,
    options: ProgressOptions = {},
  ) {
    this.stream = stream;
    this.prefix = options.prefix ?? '';
    this.started = options.started ?? Date.now();
    this.mode = total <= 1 ? 'off' : stream.isTTY ? 'bar' : options.logLines ? 'lines' : 'off';
  }

  update(done: number, detail = ''): void {
    if (this.mode === 'off') return;
    const now = Date.now();
    const rate = done / Math.max(1e-3, (now - this.started) / 1000);
    if (this.mode === 'lines') {
      const step = Math.floor((done / this.total) * 10);
      if (step === this.lastLoggedStep && now - this.lastDraw < LOG_INTERVAL_MS && done < this.total) return;
      if (done === this.total && this.lastLoggedStep === 10) return;
      this.lastLoggedStep = done === this.total ? 10 : step;
      this.lastDraw = now;
      this.stream.write(`${this.prefix}${this.label} ${done}/${this.total} (${Math.round((done / this.total) * 100)} %), ${rate.toFixed(1)}/s${detail ? ` ${detail}` : ''}\n`);
      return;
    }
    if (now - this.lastDraw < 100 && done < this.total) return;
    this.lastDraw = now;
    const width = 28;
    const filled = Math.round((done / this.total) * width);
    const line = `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total} ${rate.toFixed(1)}/s ${detail}`;
    this.stream.write(`\r${line.slice(0, (this.stream.columns ?? 100) - 1).padEnd(Math.min(this.stream.columns ?? 100, 100) - 1)}`);
  }

  /** Clear the bar's line so a message can be printed on its own line (the next update redraws it). */
  clear(): void {
    if (this.mode === 'bar' && this.lastDraw > 0) this.stream.write(`\r${' '.repeat(Math.min(this.stream.columns ?? 100, 100) - 1)}\r`);
  }

  done(): void {
    if (this.mode === 'bar') this.stream.write('\n');
  }
}

/** Words for the quantization phases, as progress lines say them. */
const PHASE_LABELS: Record<string, string> = { collect: 'calibrate', sensitivity: 'sensitivity', search: 'search' };

/**
 * One bar per counted phase of a multi-phase job (calibration, sensitivity ranking, search), and,
 * off a terminal, a line when a phase without counts starts, so a log shows where the work is.
 */
export class PhaseProgress {
  private readonly bars = new Map<string, ProgressBar>();
  private lastPhase: string | undefined;
  private phaseStarted = Date.now();
  private readonly lines: boolean;

  constructor(
    private readonly prefix: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.lines = !stream.isTTY;
  }

  update(progress: { phase: string; done?: number; total?: number }): void {
    const { phase, done, total } = progress;
    if (phase !== this.lastPhase) {
      if (this.lastPhase !== undefined) this.bars.get(this.lastPhase)?.done();
      this.lastPhase = phase;
      this.phaseStarted = Date.now();
      if (this.lines && (done === undefined || total === undefined)) this.stream.write(`${this.prefix}${phase}\n`);
    }
    if (done === undefined || total === undefined) return;
    let bar = this.bars.get(phase);
    if (!bar) this.bars.set(phase, (bar = new ProgressBar(PHASE_LABELS[phase] ?? phase, total, this.stream, { logLines: true, prefix: this.prefix, started: this.phaseStarted })));
    bar.update(done);
  }

  done(): void {
    if (this.lastPhase !== undefined) this.bars.get(this.lastPhase)?.done();
    this.lastPhase = undefined;
  }
}
