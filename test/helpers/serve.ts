/** Helpers for the serve tests: a log capture, an SSE reader, child processes of a pid, Debian's chromium. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as http from 'node:http';

/** A pino destination that keeps every line (to check that no secret reaches the log). */
export class LogCapture {
  readonly lines: string[] = [];
  write(line: string): void {
    this.lines.push(line);
  }
  get text(): string {
    return this.lines.join('');
  }
}

export interface SseMessage {
  event: string;
  id?: string;
  data: unknown;
}

/** Read a text/event-stream response into messages (a test-side reader of the format the server writes). */
export function readSse(url: string, headers: Record<string, string> = {}): { messages: SseMessage[]; status: Promise<number>; close(): void; waitFor(match: (m: SseMessage) => boolean, timeoutMs: number): Promise<SseMessage> } {
  const messages: SseMessage[] = [];
  const waiters: Array<{ match: (m: SseMessage) => boolean; resolve: (m: SseMessage) => void }> = [];
  let resolveStatus!: (status: number) => void;
  const status = new Promise<number>((resolve) => (resolveStatus = resolve));
  const request = http.get(url, { headers }, (res) => {
    resolveStatus(res.statusCode ?? 0);
    res.setEncoding('utf8');
    let pending = '';
    res.on('data', (chunk: string) => {
      pending += chunk;
      let end: number;
      while ((end = pending.indexOf('\n\n')) >= 0) {
        const block = pending.slice(0, end);
        pending = pending.slice(end + 2);
        const message: SseMessage = { event: 'message', data: undefined };
        const dataLines: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') message.event = value;
          else if (field === 'id') message.id = value;
          else if (field === 'data') dataLines.push(value);
        }
        if (dataLines.length === 0) continue;
        message.data = JSON.parse(dataLines.join('\n'));
        messages.push(message);
        for (const w of [...waiters]) {
          if (w.match(message)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(message);
          }
        }
      }
    });
  });
  request.on('error', () => resolveStatus(0));
  return {
    messages,
    status,
    close: () => request.destroy(),
    waitFor(match, timeoutMs) {
      const found = messages.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching event within ${timeoutMs} ms (got ${messages.length}: ${[...new Set(messages.map((m) => m.event))].join(', ')})`)), timeoutMs);
        waiters.push({
          match,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
      });
    },
  };
}

/** Process ids whose parent is `pid` (from /proc). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Whether a process is still there and not a zombie waiting to be reaped. */
export function processRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser test cannot run here, or undefined when it can. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed (Debian: apt-get install chromium)`;
}

/**
 * The flags for Debian's chromium on a closed network: headless, no sandbox (root), no GPU, and no
 * background traffic (updates, sync, QUIC probes) that would flood a network without a way out.
 */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
