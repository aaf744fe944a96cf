/**
 * Post-training INT8 of a float model for one backend: the one pipeline (lib/quantize/pipeline.ts)
 * with that backend's quantizer adapter, its candidates opened on that backend with the model's
 * detector. `int8-detect quantize`, createEngine's INT8 flow, quantizeModel and
 * quantizeForOpenVino all come here.
 */
import { promises as fs } from 'node:fs';
import { resolveModelProfile, type ModelOverrides } from '../detect/profile';
import type { PreprocessSpec } from '../detect/types';
import { readModelInfo } from '../onnx/model-info';
import type { QuantizerAdapter } from '../quantize/adapter';
import { quantizePostTraining, type CheckOptions, type QuantizeOutcome, type QuantizeProgress, type QuantizeSettings } from '../quantize/pipeline';
import type { Calibrator } from '../quantize/types';
import { Int8DetectError, invalidArgument } from '../util/errors';
import type { BackendDescriptor, BackendName } from './backend';
import './builtin';
import { candidateOpener, type DetectorSettings } from './open-detector';

export interface QuantizeModelOptions extends QuantizeSettings {
  /** The float ONNX model: a file path or its bytes. */
  model: string | Uint8Array;
  calibrator: Calibrator;
  /**
   * Frames held back from calibration for the label-free check and the mixed-precision search:
   * raw frames, encoded images or image paths (a function: called after calibration). No check
   * and no search without them.
   */
  heldBack?: CheckOptions['heldBack'];
  /** The held-back frames are calibration frames too: the check is optimistic. */
  heldBackShared?: boolean;
  /** Largest estimated mAP drop the check accepts (default 0.01). */
  maxDrop?: number;
  /** false: check, but keep every activation in INT8 (no mixed-precision search). Default true. */
  search?: boolean;
  /** The speed search after the accuracy search (default: the adapter's; on for OpenVINO). */
  speed?: CheckOptions['speed'];
  /** How the check passes a candidate (default 'estimate'; 'upper': the upper end of its 90 % interval). */
  decideBy?: CheckOptions['decideBy'];
  /** The least share of multiply-accumulates left in INT8 by the searches (default 0.9). */
  minInt8Fraction?: number;
  /** How candidates read the model: family, labels, preprocessing overrides. */
  overrides?: ModelOverrides;
  /** CPU threads for statistics and candidates (0 or absent: the runtime's choice). */
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (progress: QuantizeProgress) => void;
}

export interface QuantizedModel extends QuantizeOutcome {
  /** The backend whose artefact this is. */
  backend: BackendName;
  /** The artefact's main file (`artefact.bytes`): a Q/DQ ONNX model, an IR's .xml, ... */
  bytes: Uint8Array;
  /** The model's preprocessing, with which the held-back frames were prepared (absent without a check). */
  preprocess?: PreprocessSpec;
  /** What candidates were opened with, to open the float model and the artefact alike again (reports). */
  detector: DetectorSettings;
}

async function readBytes(model: unknown): Promise<Uint8Array> {
  if (model instanceof Uint8Array) return model;
  if (typeof model !== 'string' || model === '') throw invalidArgument('an ONNX model path or its bytes', 'options.model', model);
  try {
    return await fs.readFile(model);
  } catch (err) {
    throw new Int8DetectError('ERR_MODEL', `Cannot read the model ${model}: ${(err as Error).message}`, { cause: err });
  }
}

/** The backend's quantizer adapter, or ERR_ARGUMENT when it makes no INT8 artefact from a float model. */
export function quantizerOf(descriptor: BackendDescriptor): QuantizerAdapter {
  if (!descriptor.quantizer) {
    throw new Int8DetectError('ERR_ARGUMENT', `The ${descriptor.name} backend has no post-training quantizer: it cannot make an INT8 model from a float one here`);
  }
  return descriptor.quantizer;
}

export async function quantizeModelFor(descriptor: BackendDescriptor, options: QuantizeModelOptions): Promise<QuantizedModel> {
  if (typeof options !== 'object' || options === null) throw invalidArgument('an options object', 'quantizeModel(options)', options);
  const adapter = quantizerOf(descriptor);
  const bytes = await readBytes(options.model);
  const { model: _model, heldBack, heldBackShared, maxDrop, search, speed, decideBy, minInt8Fraction, overrides, ...settings } = options;
  void _model;
  const detector: DetectorSettings = { ...(overrides ? { overrides } : {}), ...(options.threads !== undefined ? { threads: options.threads } : {}) };
  // Only the check needs the model read as a detector: a model of any other kind still quantizes.
  const preprocess = heldBack === undefined ? undefined : resolveModelProfile({ info: readModelInfo(bytes), overrides: overrides ?? {} }).preprocess;
  const check: CheckOptions | undefined =
    heldBack === undefined || preprocess === undefined
      ? undefined
      : {
          heldBack,
          preprocess,
          open: candidateOpener(descriptor, detector),
          ...(heldBackShared !== undefined ? { shared: heldBackShared } : {}),
          ...(maxDrop !== undefined ? { maxDrop } : {}),
          ...(search !== undefined ? { search } : {}),
          ...(speed !== undefined ? { speed } : {}),
          ...(decideBy !== undefined ? { decideBy } : {}),
          ...(minInt8Fraction !== undefined ? { minInt8Fraction } : {}),
        };
  const outcome = await quantizePostTraining({ ...settings, model: bytes, adapter, ...(check ? { check } : {}) });
  return { ...outcome, backend: descriptor.name, bytes: outcome.artefact.bytes, ...(preprocess ? { preprocess } : {}), detector };
}
