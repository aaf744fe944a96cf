/** Split a child's stderr into lines (ffmpeg ends progress lines with \r, log lines with \n). */
export class LineSplitter {
  private rest = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    const text = this.rest + chunk.toString();
    const lines = text.split(/\r\n|\n|\r/);
    this.rest = lines.pop() ?? '';
    // A runaway line without a newline must not grow without bound.
    if (this.rest.length > 65536) this.rest = this.rest.slice(-65536);
    for (const line of lines) if (line !== '') this.onLine(line);
  }

  end(): void {
    if (this.rest !== '') this.onLine(this.rest);
    this.rest = '';
  }
}
