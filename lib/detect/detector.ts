/**
 * A model's detector over an opened runtime session: a frame goes through preprocessing (into a
 * reused input buffer), the session, the decoder and NMS, and comes back as detections in the
 * frame's own pixels. The public Engine is this plus what createEngine decided (engine.info);
 * the quantizer's candidates run through it too, without createEngine.
 */
import type { BackendSession, InputTensor, PerfCounterReport, RawTensor } from '../runtimes/session';
import { decodeImage } from '../image/decode';
import { isRawFrame, validateRawFrame, type FrameInput } from '../image/frame';
import { Int8DetectError, invalidArgument, withCallerStack } from '../util/errors';
import { InFlight } from '../util/in-flight';
import { ItemPool } from '../util/pool';
import { postprocess, resolveDetectOptions } from './postprocess';
import { preprocessFrame, tensorSize } from './preprocess';
import type { ModelProfile } from './profile';
import type { Detection, DetectOptions, OutputTensor, PreprocessSpec } from './types';

export class Detector {
  private readonly buffers: ItemPool<InputTensor['data']>;
  private readonly inputName: string;
  private readonly inputDims: number[];
  private readonly inFlight = new InFlight();
  private disposed = false;
  private disposing: Promise<void> | undefined;

  constructor(
    readonly session: BackendSession,
    readonly profile: ModelProfile,
    private readonly defaults: ReturnType<typeof resolveDetectOptions> = resolveDetectOptions(undefined),
  ) {
    const spec = profile.preprocess;
    this.inputName = session.inputs[0].name;
    this.inputDims = spec.layout === 'nchw' ? [1, channels(spec), spec.height, spec.width] : [1, spec.height, spec.width, channels(spec)];
    // One buffer per run in flight, plus one being filled while the others run.
    const count = session.concurrency + 1;
    const size = tensorSize(spec);
    this.buffers = new ItemPool<InputTensor['data']>(
      Array.from({ length: count }, () => (spec.dtype === 'uint8' ? new Uint8Array(size) : new Float32Array(size))),
    );
  }

  get labels(): readonly string[] {
    return this.profile.labels;
  }

  /** Detect objects in one frame: boxes in the frame's own pixel coordinates. */
  detect(frame: FrameInput, options?: DetectOptions): Promise<Detection[]> {
    return this.track(async () => {
      const opts = options === undefined ? this.defaults : resolveDetectOptions({ ...this.defaults, ...options });
      const raw = isRawFrame(frame) ? frame : await decodeFrameInput(frame);
      const validated = validateRawFrame(raw);
      let buffer = await this.buffers.acquire();
      try {
        const geometry = await preprocessFrame(validated, this.profile.preprocess, buffer);
        const result = await this.session.run({ [this.inputName]: { data: buffer, dims: this.inputDims } }, { transferInputs: true });
        buffer = result.inputs[this.inputName].data;
        return postprocess(floatOutputs(result.outputs), this.profile, geometry, opts);
      } finally {
        this.buffers.release(buffer);
      }
    });
  }

  /** Run the model on raw tensors: inputs by name (or one typed array for a one-input model). */
  infer(inputs: Record<string, InputTensor> | InputTensor['data']): Promise<Record<string, RawTensor>> {
    return this.track(async () => {
      let feeds: Record<string, InputTensor>;
      if (ArrayBuffer.isView(inputs)) {
        if (this.session.inputs.length !== 1) {
          throw invalidArgument(`named inputs (${this.session.inputs.map((i) => i.name).join(', ')})`, 'infer(inputs)', inputs);
        }
        feeds = { [this.inputName]: { data: inputs, dims: this.inputDims } };
      } else {
        feeds = inputs;
      }
      this.checkFeeds(feeds);
      const result = await this.session.run(feeds);
      return result.outputs;
    });
  }

  /** Per-layer counters summed since the last reset, where the runtime profiles; undefined otherwise. */
  perfCounters(options?: { reset?: boolean }): PerfCounterReport | undefined {
    if (this.disposed) return undefined;
    return this.session.perfCounters?.(options?.reset ?? false);
  }

  /** Waits for calls in flight, then frees the runtime; later calls reject with ERR_DISPOSED. */
  dispose(): Promise<void> {
    if (!this.disposing) {
      this.disposed = true;
      this.disposing = this.inFlight.drained().then(() => this.session.dispose());
    }
    return this.disposing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }

  private checkFeeds(feeds: Record<string, InputTensor>): void {
    for (const input of this.session.inputs) {
      const feed = feeds[input.name];
      if (!feed || !ArrayBuffer.isView(feed.data) || !Array.isArray(feed.dims)) {
        throw invalidArgument(`a tensor { data, dims } for input '${input.name}'`, 'infer(inputs)', feed);
      }
      const elements = feed.dims.reduce((a, b) => a * b, 1);
      if (elements !== feed.data.length) {
        throw new Int8DetectError(
          'ERR_ARGUMENT',
          `Input '${input.name}' has dims [${feed.dims.join(', ')}] (${elements} elements) but its data holds ${feed.data.length}`,
        );
      }
      const mismatch = input.dims.findIndex((d, i) => typeof d === 'number' && d > 0 && feed.dims[i] !== d);
      if (feed.dims.length !== input.dims.length || mismatch >= 0) {
        throw new Int8DetectError(
          'ERR_ARGUMENT',
          `Input '${input.name}' expects dims [${input.dims.join(', ')}] but received [${feed.dims.join(', ')}]`,
        );
      }
    }
  }

  /** Count a call in flight (dispose waits for it) and put errors on the caller's stack. */
  private track<T>(work: () => Promise<T>): Promise<T> {
    if (this.disposed) {
      return Promise.reject(new Int8DetectError('ERR_DISPOSED', 'This engine has been disposed: create a new one with createEngine()'));
    }
    return this.inFlight.track(() => withCallerStack('ERR_INFERENCE', work));
  }
}

function channels(spec: PreprocessSpec): number {
  return spec.channelOrder === 'gray' ? 1 : 3;
}

async function decodeFrameInput(frame: FrameInput) {
  if (typeof frame === 'string' || Buffer.isBuffer(frame)) return decodeImage(frame);
  throw invalidArgument('a raw frame { data, width, height, format }, an encoded image Buffer or a file path', 'frame', frame);
}

function floatOutputs(outputs: Record<string, RawTensor>): OutputTensor[] {
  return Object.values(outputs).map((o) => {
    if (!(o.data instanceof Float32Array)) {
      throw new Int8DetectError('ERR_DECODER', `Output '${o.name}' is ${o.type}; the detection decoders read float32 outputs`);
    }
    return { name: o.name, dims: o.dims, data: o.data };
  });
}
