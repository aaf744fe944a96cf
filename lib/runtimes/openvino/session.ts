/**
 * An OpenVINO compiled model as a BackendSession: a pool of infer requests (slots), so concurrent
 * run() calls execute concurrently, one per request, and the rest wait in FIFO order. Inputs are
 * read in place by the request (no copy, no transfer): the caller's buffers come back untouched.
 */
import { Int8DetectError } from '../../util/errors';
import type { NativeOpenVinoModelHandle } from './native-types';
import { ItemPool } from '../../util/pool';
import { typedArrayOf } from '../typed-output';
import type { BackendSession, InputTensor, PerfCounterReport, Precision, RawTensor, RunResult, TensorInfo } from '../backend';


function dimsOf(dims: readonly number[]): (number | string)[] {
  return dims.map((d, i) => (d >= 0 ? d : `dim${i}`));
}

export class OpenVinoSession implements BackendSession {
  readonly backend = 'openvino' as const;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly concurrency: number;
  private readonly slots: ItemPool<number>;
  private inFlight = 0;
  private idle: (() => void) | undefined;
  private disposing: Promise<void> | undefined;

  constructor(
    private readonly handle: NativeOpenVinoModelHandle,
    readonly device: string,
    readonly precision: Precision,
    readonly runtimeVersion: string,
    readonly inferencePrecision: string | undefined,
    readonly precisionDetail: string,
  ) {
    this.inputs = handle.inputs.map((t) => ({ name: t.name, type: t.type, dims: dimsOf(t.dims) }));
    this.outputs = handle.outputs.map((t) => ({ name: t.name, type: t.type, dims: dimsOf(t.dims) }));
    this.concurrency = handle.slots;
    this.slots = new ItemPool(Array.from({ length: handle.slots }, (_, i) => i));
  }

  async run(inputs: Record<string, InputTensor>): Promise<RunResult> {
    if (this.disposing) throw new Int8DetectError('ERR_DISPOSED', 'This OpenVINO session has been disposed');
    this.inFlight++;
    try {
      const slot = await this.slots.acquire();
      try {
        const feeds = Object.entries(inputs).map(([name, tensor]) => ({ name, dims: tensor.dims, data: tensor.data }));
        const outputs = await this.handle.run(slot, feeds);
        const byName: Record<string, RawTensor> = {};
        for (const output of outputs) byName[output.name] = { name: output.name, type: output.type, dims: output.dims, data: typedArrayOf('OpenVINO', output) };
        return { outputs: byName, inputs };
      } finally {
        this.slots.release(slot);
      }
    } finally {
      this.inFlight--;
      if (this.inFlight === 0 && this.idle) this.idle();
    }
  }

  perfCounters(reset = false): PerfCounterReport | undefined {
    if (this.disposing) return undefined;
    const counters = this.handle.perfCounters(reset);
    if (!counters.enabled) return undefined;
    return {
      runs: counters.runs,
      layers: counters.layers.map(({ name, nodeType, execType, status, realTimeUs, runs }) => ({ name, nodeType, execType, status, realTimeUs, runs })),
    };
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
