/**
 * A real tritonserver for the tests, from npm run setup:triton, started by scripts/triton-server.sh
 * in its foreground mode (the child's pid is tritonserver's own, so a test can kill it) on free
 * ports of 127.0.0.1, and stopped after.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import * as http from 'node:http';
import * as path from 'node:path';
import { freePort, delay } from './video';

const root = path.resolve(__dirname, '..', '..', '..');
export const tritonVenv = process.env.INT8_DETECT_TRITON_VENV ?? path.join(root, '.venv-triton');
const serverScript = path.join(root, 'scripts', 'triton-server.sh');

/** Why Triton tests cannot run here, or undefined when they can. */
export function tritonSkipReason(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `the nvidia-pytriton wheel is for Linux x86-64, this is ${process.platform}-${process.arch}`;
  if (!existsSync(path.join(tritonVenv, 'triton', 'backends', 'python', 'triton_python_backend_stub'))) {
    return `Triton is not set up in ${tritonVenv} (run 'npm run setup:triton')`;
  }
  return undefined;
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

export interface TritonServerOptions {
  /** Wait for 'ready' (every model loaded; default) or only 'live' (models may have failed). */
  wait?: 'ready' | 'live';
  /** Arguments passed on to tritonserver. */
  serverArgs?: string[];
  readyTimeoutMs?: number;
}

export interface TritonServer {
  httpUrl: string;
  grpcUrl: string;
  ports: { http: number; grpc: number; metrics: number };
  readonly pid: number;
  /** Everything the server printed. */
  log(): string;
  /** Kill the server abruptly (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Start it again on the same ports, and wait as at the start. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** SIGKILL to the server's whole process group (it and its backend stubs); nothing left is fine. */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

export async function startTriton(repository: string, options: TritonServerOptions = {}): Promise<TritonServer> {
  const ports = { http: await freePort(), grpc: await freePort(), metrics: await freePort() };
  const wait = options.wait ?? 'ready';
  const httpUrl = `http://127.0.0.1:${ports.http}`;
  let child: ChildProcess;
  let output = '';
  let exited: Promise<void>;

  const launch = async () => {
    child = spawn(
      'bash',
      [serverScript, 'run', repository, '--http-port', String(ports.http), '--grpc-port', String(ports.grpc), '--metrics-port', String(ports.metrics), '--', ...(options.serverArgs ?? [])],
      // Its own process group: tritonserver forks a Python backend stub per model instance that
      // inherits these pipes, and a stub busy with a request when its server is SIGKILLed outlives
      // it (reparented to init), holding the pipes open, so this test process never exited (ava's
      // 5-minute timeout failed one CI run so). Killing the group kills the stubs with the server.
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    // 'close': the server has exited and nothing holds its output pipes any more.
    exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const deadline = Date.now() + (options.readyTimeoutMs ?? 120_000);
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`tritonserver exited before it was ${wait}:\n${output.slice(-3000)}`);
      if ((await httpStatus(`${httpUrl}/v2/health/${wait}`)) === 200) return;
      if (Date.now() > deadline) {
        killGroup(child);
        throw new Error(`tritonserver was not ${wait} within ${options.readyTimeoutMs ?? 120_000} ms:\n${output.slice(-3000)}`);
      }
      await delay(250);
    }
  };
  await launch();

  const kill = async () => {
    killGroup(child);
    await exited;
  };
  return {
    httpUrl,
    grpcUrl: `grpc://127.0.0.1:${ports.grpc}`,
    ports,
    get pid() {
      return child.pid ?? -1;
    },
    log: () => output,
    kill,
    restart: launch,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => killGroup(child), 15_000);
        await exited;
        clearTimeout(timer);
      }
      // A stub the server did not take down with it goes too.
      killGroup(child);
    },
  };
}

export interface ExportedModel {
  name: string;
  modelDir: string;
  files: string[];
  family: string;
  precision: string;
  maxBatchSize: number;
}

/**
 * `int8-detect export --triton` run as a user runs it (the built CLI in a child process). Its INT8
 * model comes from createEngine's quantizer and cache, keyed by the model, the calibration frames
 * and the settings, so the local engine the tests compare with (the same calibration folder) finds
 * the very same quantized model.
 */
export async function exportToRepository(repository: string, args: string[]): Promise<ExportedModel> {
  const { runCli } = await import('./cli');
  // One export at a time across test files (ava runs two at once): the first quantizes into the
  // INT8 cache, the others find it there instead of quantizing the same model side by side.
  const release = await exclusive(path.join(tmpdir(), 'int8-detect-triton-export.lock'));
  try {
    const result = await runCli(['export', '--triton', repository, '--json', ...args], { timeoutMs: 900_000 });
    if (result.code !== 0) throw new Error(`export --triton ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
    return JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as ExportedModel;
  } finally {
    await release();
  }
}

/** A lock file taken with O_EXCL; one left by a killed process is taken over after 20 minutes. */
async function exclusive(lock: string): Promise<() => Promise<void>> {
  for (;;) {
    try {
      const handle = await fs.open(lock, 'wx');
      await handle.close();
      return () => fs.rm(lock, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (await fs.stat(lock).then((s) => s.mtimeMs, () => Date.now()));
      if (age > 20 * 60_000) await fs.rm(lock, { force: true });
      else await delay(500);
    }
  }
}
