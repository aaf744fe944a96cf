/**
 * A native runtime's compiled model as a BackendSession: a pool of execution slots (OpenVINO infer
 * requests, TensorRT execution contexts), so concurrent run() calls execute concurrently, one per
 * slot, and the rest wait in FIFO order. Inputs are read in place or copied by the native side:
 * the caller's buffers come back untouched. dispose() waits for runs in flight.
 */
import { Int8DetectError } from '../util/errors';
import { InFlight } from '../util/in-flight';
import { ItemPool } from '../util/pool';
import type { BackendSession, InputTensor, Precision, RawTensor, RunResult, TensorInfo } from './session';
import { typedArrayOf } from './typed-output';

/** What a native module hands back for a loaded model. */
export interface NativeSlotHandle {
  slots: number;
  run(slot: number, inputs: { name: string; dims: readonly number[]; data: InputTensor['data'] }[]): Promise<{ name: string; type: string; dims: number[]; data: ArrayBuffer }[]>;
  dispose(): void;
}

export interface SlotSessionFields {
  backend: string;
  /** The runtime's name in messages: 'OpenVINO'. */
  title: string;
  device: string;
  precision: Precision;
  runtimeVersion: string;
  inputs: readonly TensorInfo[];
  outputs: readonly TensorInfo[];
  inferencePrecision?: string;
  precisionDetail?: string;
}

export class SlotSession implements BackendSession {
  readonly backend: string;
  readonly device: string;
  readonly precision: Precision;
  readonly runtimeVersion: string;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly inferencePrecision?: string;
  readonly precisionDetail?: string;
  readonly concurrency: number;
  private readonly title: string;
  private readonly slots: ItemPool<number>;
  private readonly inFlight = new InFlight();
  private disposing: Promise<void> | undefined;

  constructor(
    protected readonly handle: NativeSlotHandle,
    fields: SlotSessionFields,
  ) {
    this.backend = fields.backend;
    this.title = fields.title;
    this.device = fields.device;
    this.precision = fields.precision;
    this.runtimeVersion = fields.runtimeVersion;
    this.inputs = fields.inputs;
    this.outputs = fields.outputs;
    if (fields.inferencePrecision !== undefined) this.inferencePrecision = fields.inferencePrecision;
    if (fields.precisionDetail !== undefined) this.precisionDetail = fields.precisionDetail;
    this.concurrency = handle.slots;
    this.slots = new ItemPool(Array.from({ length: handle.slots }, (_, i) => i));
  }

  protected get disposed(): boolean {
    return this.disposing !== undefined;
  }

  run(inputs: Record<string, InputTensor>): Promise<RunResult> {
    if (this.disposing) return Promise.reject(new Int8DetectError('ERR_DISPOSED', `This ${this.title} session has been disposed`));
    return this.inFlight.track(async () => {
      const slot = await this.slots.acquire();
      try {
        const feeds = Object.entries(inputs).map(([name, tensor]) => ({ name, dims: tensor.dims, data: tensor.data }));
        const outputs = await this.handle.run(slot, feeds);
        const byName: Record<string, RawTensor> = {};
        for (const output of outputs) byName[output.name] = { name: output.name, type: output.type, dims: output.dims, data: typedArrayOf(this.title, output) };
        return { outputs: byName, inputs };
      } finally {
        this.slots.release(slot);
      }
    });
  }

  dispose(): Promise<void> {
    this.disposing ??= this.inFlight.drained().then(() => this.handle.dispose());
    return this.disposing;
  }
}
