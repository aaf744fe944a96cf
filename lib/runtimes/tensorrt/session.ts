/**
 * A TensorRT engine as a BackendSession: a pool of execution slots (each an execution context
 * with its own CUDA stream and pinned buffers), so concurrent run() calls execute concurrently,
 * one per slot, and the rest wait in FIFO order.
 */
import { Int8DetectError } from '../../util/errors';
import { ItemPool } from '../../util/pool';
import { typedArrayOf } from '../typed-output';
import type { NativeEngineHandle } from './native-types';
import type { BackendSession, InputTensor, Precision, RawTensor, RunResult, TensorInfo } from '../backend';


export class TensorRtSession implements BackendSession {
  readonly backend = 'tensorrt' as const;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly concurrency: number;
  private readonly slots: ItemPool<number>;
  private inFlight = 0;
  private idle: (() => void) | undefined;
  private disposing: Promise<void> | undefined;

  constructor(
    private readonly handle: NativeEngineHandle,
    readonly device: string,
    readonly precision: Precision,
    readonly runtimeVersion: string,
  ) {
    this.inputs = handle.tensors.filter((t) => t.input).map((t) => ({ name: t.name, type: t.type, dims: t.dims }));
    this.outputs = handle.tensors.filter((t) => !t.input).map((t) => ({ name: t.name, type: t.type, dims: t.dims }));
    this.concurrency = handle.slots;
    this.slots = new ItemPool(Array.from({ length: handle.slots }, (_, i) => i));
  }

  async run(inputs: Record<string, InputTensor>): Promise<RunResult> {
    if (this.disposing) throw new Int8DetectError('ERR_DISPOSED', 'This TensorRT session has been disposed');
    this.inFlight++;
    const slot = await this.slots.acquire();
    try {
      const feeds = Object.entries(inputs).map(([name, tensor]) => ({ name, dims: tensor.dims, data: tensor.data }));
      const outputs = await this.handle.run(slot, feeds);
      const byName: Record<string, RawTensor> = {};
      for (const output of outputs) byName[output.name] = { name: output.name, type: output.type, dims: output.dims, data: typedArrayOf('TensorRT', output) };
      // The inputs were copied into pinned memory: the caller's buffers are handed back untouched.
      return { outputs: byName, inputs };
    } finally {
      this.slots.release(slot);
      this.inFlight--;
      if (this.inFlight === 0 && this.idle) this.idle();
    }
  }

  dispose(): Promise<void> {
    if (!this.disposing) {
      this.disposing = (async () => {
        if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
        this.handle.dispose();
      })();
    }
    return this.disposing;
  }
}
