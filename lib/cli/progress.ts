/** A one-line progress bar on stderr; silent where stderr is not a terminal (CI logs, pipes). */
export class ProgressBar {
  private readonly started = Date.now();
  private lastDraw = 0;
  private readonly enabled: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number,
    stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.enabled = Boolean(stream.isTTY) && total > 1;
    this.stream = stream;
  }

  private readonly stream: NodeJS.WriteStream;

  update(done: number, detail = ''): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && done < this.total) return;
    this.lastDraw = now;
    const width = 28;
    const filled = Math.round((done / this.total) * width);
    const rate = done / Math.max(1e-3, (now - this.started) / 1000);
    const line = `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total} ${rate.toFixed(1)}/s ${detail}`;
    this.stream.write(`\r${line.slice(0, (this.stream.columns ?? 100) - 1).padEnd(Math.min(this.stream.columns ?? 100, 100) - 1)}`);
  }

  /** Clear the bar's line so a message can be printed on its own line (the next update redraws it). */
  clear(): void {
    if (this.enabled && this.lastDraw > 0) this.stream.write(`\r${' '.repeat(Math.min(this.stream.columns ?? 100, 100) - 1)}\r`);
  }

  done(): void {
    if (this.enabled) this.stream.write('\n');
  }
}
