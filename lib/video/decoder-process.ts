/**
 * One decoder child process (ffmpeg or gst-launch-1.0): spawned, read frame by frame, watched for
 * failures in its log, and ended for sure. Everything it reports is redacted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { parseGstSinkCaps } from './decoder-args';
import type { VideoErrorReason } from './errors';
import { classifyFfmpegLine, isNoise, parseShowinfoFrame } from './ffmpeg-log';
import { FrameAssembler, frameBytes, type FramePool, type FrameHandler } from './frame-assembler';
import { LineSplitter } from './line-splitter';
import { processCpuSeconds } from './process-cpu';
import type { Redactor } from './redact';
import type { OutputFormat } from './types';

export interface DecoderSpec {
  kind: 'ffmpeg' | 'gstreamer';
  command: string;
  args: string[];
  /** Variables added to the decoder's environment (the GStreamer launcher's pipeline and credentials). */
  env?: Record<string, string>;
  format: OutputFormat;
  redact: Redactor;
  pool: FramePool;
}

export interface DecoderExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** A failure recognised in the log or at spawn, when there was one. */
  reason: VideoErrorReason | undefined;
  /** The command could not be started at all (ENOENT, EACCES). */
  spawnError: NodeJS.ErrnoException | undefined;
  /** The last meaningful log lines, redacted. */
  log: string[];
  /** The decoder changed frame size in a way it cannot announce in-band (GStreamer): restart it. */
  resized: boolean;
}

export interface DecoderCallbacks {
  onFrame: FrameHandler;
  onLine?: (line: string) => void;
  onExit: (exit: DecoderExit) => void;
}

const KEEP_LOG_LINES = 12;
const KILL_GRACE_MS = 1500;

export class DecoderProcess {
  private readonly child: ChildProcess;
  private readonly frames: Readable;
  private readonly assembler: FrameAssembler;
  private readonly log: string[] = [];
  private reason: VideoErrorReason | undefined;
  private spawnError: NodeJS.ErrnoException | undefined;
  private resized = false;
  private gstFps = NaN;
  private gstFrames = 0;
  private closed: Promise<void>;
  private killTimer: NodeJS.Timeout | undefined;
  private paused = false;

  constructor(
    private readonly spec: DecoderSpec,
    private readonly callbacks: DecoderCallbacks,
  ) {
    const gst = spec.kind === 'gstreamer';
    this.child = spawn(spec.command, spec.args, {
      stdio: gst ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
      ...(spec.env ? { env: { ...process.env, ...spec.env } } : {}),
    });
    this.frames = (gst ? this.child.stdio[3] : this.child.stdout) as Readable;
    this.assembler = new FrameAssembler(spec.pool, (data, layout, release) => {
      if (gst) {
        layout = { ...layout, pts: Number.isFinite(this.gstFps) ? this.gstFrames / this.gstFps : NaN };
        this.gstFrames++;
      }
      callbacks.onFrame(data, layout, release);
    });
    this.frames.on('data', (chunk: Buffer) => this.assembler.push(chunk));
    this.frames.on('error', () => {});
    const lines = new LineSplitter((line) => this.onLogLine(line));
    this.child.stderr!.on('data', (chunk: Buffer) => lines.push(chunk));
    if (gst) this.child.stdout!.on('data', (chunk: Buffer) => lines.push(chunk));
    this.child.on('error', (err: NodeJS.ErrnoException) => {
      // Spawn failures carry the argument list (and so a camera's password) in err.spawnargs and
      // sometimes in the message: keep only the code.
      this.spawnError = Object.assign(new Error(err.code ?? 'spawn failed'), { code: err.code }) as NodeJS.ErrnoException;
      this.reason = 'decoder-missing';
    });
    this.closed = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        lines.end();
        if (this.killTimer) clearTimeout(this.killTimer);
        resolve();
        callbacks.onExit({ code, signal, reason: this.reason, spawnError: this.spawnError, log: this.log.slice(), resized: this.resized });
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** CPU seconds the decoder has used so far. */
  cpuSeconds(): number | undefined {
    return processCpuSeconds(this.child.pid);
  }

  /** Stop reading frames: the pipe fills and the decoder blocks on its next write (backpressure). */
  pause(): void {
    if (!this.paused) {
      this.paused = true;
      this.frames.pause();
    }
  }

  resume(): void {
    if (this.paused) {
      this.paused = false;
      this.frames.resume();
    }
  }

  /** End the process (SIGTERM, then SIGKILL after a grace period) and wait until it is gone. */
  kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined) {
      this.child.kill('SIGTERM');
      // A paused pipe would keep ffmpeg blocked in write(); let it drain so it can exit.
      this.frames.resume();
      if (!this.killTimer) this.killTimer = setTimeout(() => this.child.kill('SIGKILL'), KILL_GRACE_MS);
    }
    return this.closed;
  }

  private onLogLine(raw: string): void {
    if (this.spec.kind === 'ffmpeg') {
      const frame = parseShowinfoFrame(raw);
      if (frame) {
        this.assembler.pushLayout({ ...frame, bytes: frameBytes(this.spec.format, frame.width, frame.height) });
        return;
      }
    } else {
      const caps = parseGstSinkCaps(raw);
      if (caps) {
        const layout = { width: caps.width, height: caps.height, pts: NaN, bytes: frameBytes(this.spec.format, caps.width, caps.height) };
        if (this.gstFrames > 0 || this.assembler.pendingBytes > 0) {
          // The new size cannot be tied to a byte position in the stream: start over.
          this.resized = true;
          void this.kill();
          return;
        }
        this.gstFps = caps.fps;
        this.assembler.setFixedLayout(layout);
        return;
      }
    }
    const line = this.spec.redact(raw);
    const reason = classifyFfmpegLine(line);
    if (reason && !this.reason) this.reason = reason;
    if (!isNoise(line)) {
      this.log.push(line.trim());
      if (this.log.length > KEEP_LOG_LINES) this.log.shift();
    }
    this.callbacks.onLine?.(line);
  }
}
