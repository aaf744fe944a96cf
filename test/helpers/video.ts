/** Test media and a real RTSP server for the video tests (127.0.0.1 only). */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..', '..');

export interface TestMedia {
  dir: string;
  stills: string[];
  slideshow: string;
  switchVideo: string;
}

/** The slideshow of the first `images` COCO eval images, `seconds` each, 15 fps, 640x480 (then 320x240 in switch.h264). */
export function makeTestMedia(dir: string, images: number, seconds: number): Promise<TestMedia> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [path.join(root, 'scripts', 'make-test-video.sh'), '--out', dir, '--images', String(images), '--seconds', String(seconds), '--fps', '15', '--size', '640x480', '--switch-size', '320x240'],
      { timeout: 120_000 },
      (err, _stdout, stderr) => {
        if (err) return reject(new Error(`make-test-video.sh failed: ${stderr || err.message}`));
        const stills = Array.from({ length: images }, (_, i) => path.join(dir, 'stills', `${String(i).padStart(3, '0')}.png`));
        resolve({ dir, stills, slideshow: path.join(dir, 'slideshow.h264'), switchVideo: path.join(dir, 'switch.h264') });
      },
    );
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface RtspServer {
  port: number;
  url(mount: string, credentials?: string): string;
  stop(): Promise<void>;
  child: ChildProcess;
}

export interface RtspServerOptions {
  port?: number;
  mounts: Record<string, string>;
  user?: string;
  password?: string;
}

/** scripts/rtsp-server.py under Debian's /usr/bin/python3 (it has python3-gi); resolves once it prints READY. */
export async function startRtspServer(options: RtspServerOptions): Promise<RtspServer> {
  const port = options.port ?? (await freePort());
  const args = [path.join(root, 'scripts', 'rtsp-server.py'), '--port', String(port), '--fps', '15'];
  for (const [name, file] of Object.entries(options.mounts)) args.push('--mount', `${name}=${file}`);
  if (options.user !== undefined) args.push('--user', options.user, '--password', options.password ?? '');
  const child = spawn('/usr/bin/python3', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`rtsp-server.py did not start within 15 s: ${stderr}`)), 15_000);
    child.stdout!.on('data', (c: Buffer) => {
      if (c.toString().includes('READY')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`rtsp-server.py exited with ${code}: ${stderr}`));
    });
  });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return {
    port,
    child,
    url: (mount, credentials) => `rtsp://${credentials ? `${credentials}@` : ''}127.0.0.1:${port}/${mount}`,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Open file descriptors of this process. */
export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** delay() for the losing side of a Promise.race: its timer does not keep the test process alive once the race is over. */
export function deadline(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
