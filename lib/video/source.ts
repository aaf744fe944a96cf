/**
 * One video source that stays up: it runs a decoder, reports frames, and when the decoder ends
 * or stalls it reconnects with exponential backoff and jitter, until it succeeds, a failure that
 * retrying cannot fix (no decoder installed, wrong credentials, no such file), or maxRetries.
 */
import { backoffDelay } from './backoff';
import { Int8DetectError, type OptionSpeller } from '../util/errors';
import { warnOnce } from '../util/warnings';
import { ffmpegArgs, gstreamerArgs } from './decoder-args';
import { gstPython, gstreamerEnvLaunch, hasCredentials } from './gst-env-launch';
import { DecoderProcess, type DecoderExit } from './decoder-process';
import { VideoSourceError, type VideoErrorReason } from './errors';
import type { FramePool } from './frame-assembler';
import { resolveHwAccel } from './hwaccel';
import { makeRedactor, redactUrl, type Redactor } from './redact';
import { isLive, sourceKind } from './source-url';
import type {
  ConnectedEvent,
  DisconnectedEvent,
  HwAccel,
  EndEvent,
  OutputFormat,
  ReconnectingEvent,
  SourceKind,
  SourceOptions,
  SourceState,
  StreamErrorEvent,
  VideoFrame,
} from './types';

/** A message, fixed or naming options through the speller. */
type Message = string | ((spell: OptionSpeller) => string);

export interface SourceHandlers {
  frame(frame: VideoFrame, release: () => void): void;
  connected(event: ConnectedEvent): void;
  disconnected(event: DisconnectedEvent): void;
  reconnecting(event: ReconnectingEvent): void;
  end(event: EndEvent): void;
  error(event: StreamErrorEvent): void;
  line?(stream: string, line: string): void;
}

export class VideoSource {
  readonly id: string;
  /** The URL with its credentials removed: the only form that appears anywhere. */
  readonly url: string;
  readonly kind: SourceKind;
  readonly live: boolean;
  readonly format: OutputFormat;
  private readonly redact: Redactor;
  private readonly decoderName: string;
  private readonly command: string;
  private readonly connectTimeoutMs: number;
  private readonly stallTimeoutMs: number;
  private readonly maxRetries: number;
  private decoder: DecoderProcess | undefined;
  private stateValue: SourceState = 'idle';
  private attempts = 0;
  private frames = 0;
  private width = 0;
  private height = 0;
  private reconnectCount = 0;
  private lastFrameAt = 0;
  private connectTimer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Why we killed the running decoder ourselves (timeout, stall), so its exit is read right. */
  private killReason: VideoErrorReason | undefined;
  private finishedCpu = 0;
  private lastCpu = 0;
  private paused = false;
  private disposed = false;

  constructor(
    private readonly options: SourceOptions,
    index: number,
    private readonly pool: FramePool,
    private readonly handlers: SourceHandlers,
  ) {
    this.id = options.id ?? `stream${index}`;
    this.url = redactUrl(options.url);
    this.redact = makeRedactor(options.url);
    this.kind = sourceKind(options.url);
    this.live = isLive(this.kind);
    this.format = options.format ?? 'nv12';
    this.decoderName = options.decoder ?? 'ffmpeg';
    this.command = this.decoderName === 'gstreamer' ? (options.gstLaunchPath ?? 'gst-launch-1.0') : (options.ffmpegPath ?? 'ffmpeg');
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.stallTimeoutMs = options.stallTimeoutMs ?? 5_000;
    this.maxRetries = options.maxRetries ?? (this.live ? Infinity : 0);
  }

  get state(): SourceState {
    return this.stateValue;
  }

  get size(): { width: number; height: number } {
    return { width: this.width, height: this.height };
  }

  get reconnects(): number {
    return this.reconnectCount;
  }

  get pid(): number | undefined {
    return this.decoder?.pid;
  }

  start(): void {
    if (this.stateValue !== 'idle') return;
    void this.spawnDecoder();
  }

  /** CPU seconds used by this source's decoders so far, the ones that have exited included. */
  cpuSeconds(): number {
    const current = this.decoder?.cpuSeconds();
    if (current !== undefined) this.lastCpu = current;
    return this.finishedCpu + this.lastCpu;
  }

  /** Backpressure: stop reading (the decoder blocks on its pipe) until resume(). */
  pause(): void {
    this.paused = true;
    this.decoder?.pause();
  }

  resume(): void {
    this.paused = false;
    // The watchdog measures silence while reading, not while we held the decoder back.
    this.lastFrameAt = Date.now();
    this.decoder?.resume();
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.clearTimers();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.decoder?.kill();
  }

  private async spawnDecoder(): Promise<void> {
    this.stateValue = this.attempts === 0 && this.frames === 0 ? 'connecting' : 'reconnecting';
    const hwaccel = this.decoderName === 'ffmpeg' ? await resolveHwAccel(this.options.hwaccel ?? 'none', this.command) : 'none';
    if (this.disposed) return;
    const launch = await this.decoderLaunch(hwaccel);
    if (this.disposed) return;
    let connected = false;
    this.killReason = undefined;
    this.lastCpu = 0;
    const decoder = new DecoderProcess(
      { kind: this.decoderName === 'gstreamer' ? 'gstreamer' : 'ffmpeg', ...launch, format: this.format, redact: this.redact, pool: this.pool },
      {
        onFrame: (data, layout, release) => {
          if (this.disposed) return release();
          this.lastFrameAt = Date.now();
          if (!connected) {
            connected = true;
            this.onConnected(layout.width, layout.height);
          } else if (layout.width !== this.width || layout.height !== this.height) {
            this.width = layout.width;
            this.height = layout.height;
          }
          this.frames++;
          const frame: VideoFrame = {
            data,
            width: layout.width,
            height: layout.height,
            format: this.format,
            stream: this.id,
            pts: layout.pts,
            time: this.lastFrameAt,
            index: this.frames,
          };
          this.handlers.frame(frame, release);
        },
        onLine: this.handlers.line ? (line) => this.handlers.line!(this.id, line) : undefined,
        onExit: (exit) => {
          if (this.decoder === decoder) {
            this.finishedCpu += this.lastCpu;
            this.lastCpu = 0;
            this.decoder = undefined;
          }
          this.onExit(exit, connected);
        },
      },
    );
    this.decoder = decoder;
    if (this.paused) decoder.pause();
    this.connectTimer = setTimeout(() => {
      this.killReason = 'timeout';
      void decoder.kill();
    }, this.connectTimeoutMs);
  }

  /**
   * The decoder's command line. A GStreamer source with credentials runs from its environment
   * (gst-env-launch.ts), so they never reach a command line; without a Python that can, it falls
   * back to gst-launch-1.0 and warns once. ffmpeg has no such way (ffmpegCredentialsNote()).
   */
  private async decoderLaunch(hwaccel: Exclude<HwAccel, 'auto'>): Promise<{ command: string; args: string[]; env?: Record<string, string> }> {
    if (this.decoderName !== 'gstreamer') return { command: this.command, args: ffmpegArgs(this.kind, this.options, this.format, hwaccel, this.connectTimeoutMs) };
    if (hasCredentials(this.options.url)) {
      const python = await gstPython();
      if (python !== undefined) return gstreamerEnvLaunch(this.kind, this.options, this.format, python);
      warnOnce(
        new Int8DetectError(
          'ERR_VIDEO',
          `${this.url}: the credentials in this URL are on gst-launch-1.0's command line, where other local users can read them (ps); ` +
            `install PyGObject with GStreamer (Debian/Ubuntu: apt-get install python3-gi gir1.2-gstreamer-1.0) to keep them in its environment instead`,
        ),
      );
    }
    return { command: this.command, args: gstreamerArgs(this.kind, this.options, this.format) };
  }

  private onConnected(width: number, height: number): void {
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    this.attempts = 0;
    this.width = width;
    this.height = height;
    this.stateValue = 'connected';
    this.handlers.connected({ stream: this.id, url: this.url, width, height, format: this.format, decoder: this.decoderName });
    // Files do not stall, and restarting one would start it over: the watchdog is for live sources.
    if (!this.live) return;
    // The watchdog looks four times per stall period, so a stall is caught within 1.25 periods.
    this.stallTimer = setInterval(() => {
      if (!this.paused && Date.now() - this.lastFrameAt > this.stallTimeoutMs && this.decoder) {
        this.killReason = 'stalled';
        void this.decoder.kill();
      }
    }, Math.max(50, this.stallTimeoutMs / 4));
  }

  private clearTimers(): void {
    if (this.connectTimer) clearTimeout(this.connectTimer);
    if (this.stallTimer) clearInterval(this.stallTimer);
    this.connectTimer = undefined;
    this.stallTimer = undefined;
  }

  private onExit(exit: DecoderExit, wasConnected: boolean): void {
    this.clearTimers();
    if (this.disposed) return;
    if (exit.resized) {
      // GStreamer changed the frame size, which it cannot tie to a byte position in its output. A
      // live source picks up where the stream is now; a file would start over, and loop forever.
      if (this.live) void this.spawnDecoder();
      else this.fail('decoder-exit', `${this.url}: the resolution changed mid-file, which the GStreamer decoder cannot follow; decode it with ffmpeg (the default)`);
      return;
    }
    const reason: VideoErrorReason | undefined = exit.reason ?? this.killReason ?? (exit.code === 0 ? undefined : 'decoder-exit');
    if (!this.live && wasConnected && reason === undefined) {
      this.finish('ended');
      return;
    }
    const why = reason ?? 'end of stream';
    if (wasConnected) this.handlers.disconnected({ stream: this.id, url: this.url, reason: why });
    const fatalNow = reason === 'decoder-missing' || reason === 'auth' || (reason === 'not-found' && !this.live);
    if (fatalNow) {
      this.fail(reason, this.describe(reason, exit));
      return;
    }
    if (reason !== undefined) this.report(reason, false, this.describe(reason, exit));
    this.attempts++;
    if (this.attempts > this.maxRetries) {
      if (this.maxRetries === 0) this.fail(reason ?? 'decoder-exit', this.describe(reason ?? 'decoder-exit', exit));
      else this.fail('retries-exhausted', (spell) => `${this.url}: gave up after ${this.maxRetries} reconnect attempts (last: ${why}); raise ${spell('maxRetries')} to keep trying longer`);
      return;
    }
    const delayMs = backoffDelay(this.attempts, { initialMs: this.options.backoffInitialMs ?? 500, maxMs: this.options.backoffMaxMs ?? 30_000 });
    this.stateValue = 'reconnecting';
    this.reconnectCount++;
    this.handlers.reconnecting({ stream: this.id, url: this.url, attempt: this.attempts, delayMs, reason: why });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.disposed) void this.spawnDecoder();
    }, delayMs);
  }

  /** The message for a failure, naming options through `spell` (the CLI names its flags). */
  private describe(reason: VideoErrorReason, exit: DecoderExit): Message {
    const tool = this.decoderName === 'gstreamer' ? 'gst-launch-1.0' : 'ffmpeg';
    const last = exit.log.length > 0 ? `: ${exit.log[exit.log.length - 1]}` : '';
    switch (reason) {
      case 'decoder-missing':
        return this.decoderName === 'gstreamer'
          ? (spell) => `${this.url}: cannot run ${this.command} (${exit.spawnError?.code ?? 'not found'}): install GStreamer's tools (Debian/Ubuntu: apt-get install gstreamer1.0-tools) or set ${spell('gstLaunchPath')}`
          : (spell) => `${this.url}: cannot run ${this.command} (${exit.spawnError?.code ?? 'not found'}): install ffmpeg (Debian/Ubuntu: apt-get install ffmpeg) or set ${spell('ffmpegPath')} to its location`;
      case 'auth':
        return `${this.url}: authentication failed: the server refused the user name or password (401 Unauthorized)`;
      case 'not-found':
        return `${this.url}: not found${last}`;
      case 'timeout':
        return `${this.url}: no answer within ${this.connectTimeoutMs} ms (connect timeout)`;
      case 'stalled':
        return `${this.url}: no frame for ${this.stallTimeoutMs} ms; the decoder was restarted`;
      default:
        return `${this.url}: ${tool} exited with ${exit.signal ?? `code ${exit.code}`}${last}`;
    }
  }

  private report(reason: VideoErrorReason, fatal: boolean, message: Message): void {
    const render = typeof message === 'function' ? message : () => message;
    const option = reason === 'decoder-missing' ? (this.decoderName === 'gstreamer' ? 'gstLaunchPath' : 'ffmpegPath') : reason === 'retries-exhausted' ? 'maxRetries' : undefined;
    const error = new VideoSourceError(this.id, reason, fatal, (spell) => this.redact(render(spell)), option);
    this.handlers.error({ stream: this.id, url: this.url, error, fatal });
  }

  private fail(reason: VideoErrorReason, message: Message): void {
    this.report(reason, true, message);
    this.finish('failed');
  }

  private finish(state: 'ended' | 'failed'): void {
    this.stateValue = state;
    this.handlers.end({ stream: this.id, url: this.url, frames: this.frames });
  }
}
