/** Raw BGR frames -> an H.264 file, by an ffmpeg child process reading its stdin. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Int8DetectError } from '../util/errors';

export interface VideoWriterOptions {
  path: string;
  width: number;
  height: number;
  fps: number;
  ffmpegPath?: string;
}

export class VideoWriter {
  private readonly child: ChildProcess;
  private stderr = '';
  private failed: Error | undefined;
  readonly width: number;
  readonly height: number;

  constructor(options: VideoWriterOptions) {
    this.width = options.width;
    this.height = options.height;
    const command = options.ffmpegPath ?? 'ffmpeg';
    this.child = spawn(
      command,
      ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'bgr24', '-s', `${options.width}x${options.height}`, '-r', String(options.fps), '-i', 'pipe:0',
        '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', options.path],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    this.child.stderr!.on('data', (c: Buffer) => (this.stderr = (this.stderr + c.toString()).slice(-4000)));
    this.child.stdin!.on('error', () => {});
    this.child.on('error', (err: NodeJS.ErrnoException) => {
      this.failed = new Int8DetectError('ERR_ARGUMENT', `cannot run ${command} to write ${options.path} (${err.code}): install ffmpeg (Debian/Ubuntu: apt-get install ffmpeg)`);
    });
  }

  /** Write one frame; resolves when the encoder has taken it (its pipe applies backpressure). */
  async write(bgr: Buffer): Promise<void> {
    if (this.failed) throw this.failed;
    if (!this.child.stdin!.write(bgr)) await once(this.child.stdin!, 'drain');
  }

  /** Finish the file and wait for the encoder to exit. */
  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null && !this.failed) {
      const closed = once(this.child, 'close');
      this.child.stdin!.end();
      const [code] = (await closed) as [number | null];
      if (code !== 0) throw new Int8DetectError('ERR_ARGUMENT', `ffmpeg could not write the video (exit ${code}): ${this.stderr.trim()}`);
    }
    if (this.failed) throw this.failed;
  }
}
