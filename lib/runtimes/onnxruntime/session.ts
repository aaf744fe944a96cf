/**
 * ONNX Runtime sessions in worker threads. onnxruntime-node runs a session synchronously on the
 * calling thread, which would stall a server's event loop for the whole inference: each of
 * `concurrency` workers holds its own session, runs go to an idle worker or wait in FIFO order,
 * and buffers move between threads by transfer. An idle worker is unref'd, so a process that
 * never disposes its engine still exits; it is ref'd while a run is in flight.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Int8DetectError } from '../../util/errors';
import { InFlight } from '../../util/in-flight';
import { ItemPool } from '../../util/pool';
import type { BackendOpenOptions, BackendSession, InputTensor, Precision, RunOptions, RunResult, TensorInfo } from '../session';
import { batchDynamicBytes } from '../../onnx/dynamic-batch';
import { lowerForOnnxRuntime } from './lowering';
import type { FromWorker, ToWorker, WorkerInit } from './protocol';

type Feeds = Extract<ToWorker, { type: 'run' }>['feeds'];

interface PendingRun {
  resolve(result: RunResult): void;
  reject(err: Error): void;
}

/** One worker thread with one ONNX Runtime session. */
class SessionWorker {
  private readonly pending = new Map<number, PendingRun>();
  private nextId = 1;
  private failure: Error | undefined;

  private constructor(
    private readonly worker: Worker,
    readonly inputs: TensorInfo[],
    readonly outputs: TensorInfo[],
    readonly version: string,
  ) {
    worker.on('message', (message: FromWorker) => this.onMessage(message));
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => this.fail(new Error(`the ONNX Runtime worker thread exited with code ${code}`)));
    // Idle: it must not keep the process alive (a script that never disposes still exits).
    worker.unref();
  }

  static start(init: WorkerInit, modelPath: string): Promise<SessionWorker> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(path.join(__dirname, 'worker.js'), { workerData: init });
      const onError = (err: Error) => reject(modelError(modelPath, err.message));
      worker.once('error', onError);
      worker.once('message', (message: FromWorker) => {
        worker.off('error', onError);
        if (message.type === 'ready') {
          resolve(new SessionWorker(worker, message.inputs, message.outputs, message.version));
        } else {
          void worker.terminate();
          reject(modelError(modelPath, message.type === 'initError' ? message.message : `unexpected message ${message.type}`));
        }
      });
    });
  }

  run(feeds: Feeds, transfer: ArrayBuffer[]): Promise<RunResult> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'run', id, feeds } satisfies ToWorker, transfer);
    });
  }

  endProfiling(): void {
    this.worker.postMessage({ type: 'endProfiling', id: 0 } satisfies ToWorker);
  }

  async close(): Promise<void> {
    if (this.failure) return;
    const closed = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    // Held open until it has exited: a caller awaiting the close must not see the process end first.
    this.worker.ref();
    this.worker.postMessage({ type: 'close' } satisfies ToWorker);
    await closed;
  }

  private settle(id: number): PendingRun | undefined {
    const run = this.pending.get(id);
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
    return run;
  }

  private onMessage(message: FromWorker): void {
    if (message.type !== 'result' && message.type !== 'runError') return;
    const run = this.settle(message.id);
    if (!run) return;
    if (message.type === 'result') run.resolve({ outputs: message.outputs, inputs: message.feeds as Record<string, InputTensor> });
    else run.reject(new Int8DetectError('ERR_INFERENCE', `ONNX Runtime failed to run the model: ${message.message}`));
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = new Int8DetectError('ERR_INFERENCE', `ONNX Runtime worker failed: ${err.message}`, { cause: err });
    for (const run of this.pending.values()) run.reject(this.failure);
    this.pending.clear();
    this.worker.unref();
  }
}

function modelError(modelPath: string, message: string): Int8DetectError {
  return new Int8DetectError('ERR_MODEL', `ONNX Runtime could not load the model ${modelPath}: ${message}`);
}

function elementType(data: InputTensor['data']): string {
  return data instanceof Float32Array ? 'float32' : 'uint8';
}

class OnnxRuntimeSession implements BackendSession {
  readonly backend = 'onnxruntime' as const;
  readonly device = 'cpu';
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly runtimeVersion: string;
  private readonly idle: ItemPool<SessionWorker>;
  private readonly inFlight = new InFlight();

  constructor(
    private readonly workers: SessionWorker[],
    readonly precision: Precision,
  ) {
    this.inputs = workers[0].inputs;
    this.outputs = workers[0].outputs;
    this.runtimeVersion = workers[0].version;
    this.idle = new ItemPool(workers);
  }

  get concurrency(): number {
    return this.workers.length;
  }

  run(inputs: Record<string, InputTensor>, options: RunOptions = {}): Promise<RunResult> {
    const feeds: Feeds = {};
    const transfer: ArrayBuffer[] = [];
    for (const [name, tensor] of Object.entries(inputs)) {
      // A caller's own buffer is copied (structured clone); the engine's pooled buffers move.
      feeds[name] = { data: tensor.data, dims: tensor.dims, type: elementType(tensor.data) };
      if (options.transferInputs && tensor.data.buffer instanceof ArrayBuffer && !transfer.includes(tensor.data.buffer)) {
        transfer.push(tensor.data.buffer);
      }
    }
    return this.inFlight.track(async () => {
      const worker = await this.idle.acquire();
      try {
        return await worker.run(feeds, transfer);
      } finally {
        this.idle.release(worker);
      }
    });
  }

  /** Ask every worker to write its ONNX Runtime profile (sessions opened with profiling on). */
  endProfiling(): void {
    for (const worker of this.workers) worker.endProfiling();
  }

  async dispose(): Promise<void> {
    await this.inFlight.drained();
    await Promise.all(this.workers.map((w) => w.close()));
  }
}

export interface OnnxRuntimeSessionOptions extends BackendOpenOptions {
  /** Write ONNX Runtime's per-operator profile; files start with this prefix. */
  profileFilePrefix?: string;
}

/** `concurrency` workers, each with a session of the model (lowered for ONNX Runtime's INT8 kernels). */
export async function openOnnxRuntimeSession(options: OnnxRuntimeSessionOptions): Promise<BackendSession> {
  if (options.device !== undefined && options.device !== 'cpu') {
    throw new Int8DetectError('ERR_BACKEND_UNAVAILABLE', `The onnxruntime backend runs on the CPU only, but device ${JSON.stringify(options.device)} was requested`);
  }
  const cores = os.availableParallelism();
  const concurrency = Math.max(1, options.concurrency);
  const threads = options.threads > 0 ? options.threads : Math.max(1, Math.floor(cores / concurrency));
  const init: WorkerInit = {
    modelBytes: lowerForOnnxRuntime((options.batch ?? 1) > 1 ? batchDynamicBytes(options.modelBytes).bytes : options.modelBytes),
    intraOpNumThreads: threads,
    enableProfiling: options.profileFilePrefix !== undefined,
    profileFilePrefix: options.profileFilePrefix,
  };
  const workers: SessionWorker[] = [];
  try {
    for (let i = 0; i < concurrency; i++) workers.push(await SessionWorker.start(init, options.modelPath));
  } catch (err) {
    await Promise.all(workers.map((w) => w.close()));
    throw err;
  }
  return new OnnxRuntimeSession(workers, options.precision);
}
