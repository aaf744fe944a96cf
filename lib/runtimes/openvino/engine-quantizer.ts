/**
 * The quantizer createEngine uses for backend 'openvino' (precision 'int8' or 'auto' with a
 * calibrator): quantizeForOpenVino (FakeQuantize IR, NNCF-style placement and presets, the
 * label-free check and mixed-precision search) in a temporary folder, its two files handed to the
 * INT8 cache (the .xml as the artefact, the .bin as its companion), and the same summary the
 * portable Q/DQ quantizer reports.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Int8DetectError } from '../../util/errors';
import { isRawFrame, type FrameInput, type RawFrame } from '../../image/frame';
import { decodeImage } from '../../image/decode';
import type { Int8Quantizer, Int8QuantizeRequest, Int8Summary } from '../../engine/int8';
import { int8Summary } from '../../quantize/int8-summary';
import type { CalibrationBatch, Calibrator } from '../../quantize/types';
import type { OpenVinoPreset } from './fake-quantize';
import { quantizeForOpenVino, type OpenVinoQuantizeResult } from './quantize';

/** The engine's activation setting as NNCF's preset: symmetric activations are 'performance'. */
export function presetFor(activations: Int8QuantizeRequest['settings']['activations']): OpenVinoPreset {
  return activations === 'int8-symmetric' ? 'performance' : 'mixed';
}

/**
 * The calibrator, decoding the held-back frames at the end of each complete pass: a stream's
 * held-back frames are known only once it has been read, and quantizeForOpenVino reads them
 * (synchronously, as `heldBack.frames`) only after calibration.
 */
function withHeldBack(request: Int8QuantizeRequest): { calibrator: Calibrator; frames: () => readonly RawFrame[] } {
  let decoded: RawFrame[] | undefined;
  const source = request.calibrator;
  const decode = async () => {
    decoded = await Promise.all(request.heldBack().map((f: FrameInput) => (isRawFrame(f) ? f : decodeImage(f))));
  };
  const calibrator: Calibrator = {
    batchSize: source.batchSize,
    ...(source.size !== undefined ? { size: source.size } : {}),
    ...(source.fingerprint !== undefined ? { fingerprint: source.fingerprint } : {}),
    async *[Symbol.asyncIterator](): AsyncGenerator<CalibrationBatch> {
      let failed = false;
      try {
        for await (const batch of source) yield batch;
      } catch (err) {
        failed = true;
        throw err;
      } finally {
        // A pass cut short by the subset size ends here too (return); a failed one does not decode.
        if (!failed) await decode();
      }
    },
  };
  return {
    calibrator,
    frames: () => {
      if (decoded === undefined || decoded.length === 0) {
        throw new Int8DetectError('ERR_CALIBRATION', 'No frames were held back for the label-free accuracy check: give at least one frame the calibrator does not');
      }
      return decoded;
    },
  };
}

function summarize(request: Int8QuantizeRequest, result: OpenVinoQuantizeResult): Int8Summary {
  const { plan, search } = result;
  const { settings } = request;
  const warnings = [...result.warnings];
  if (request.heldBackShared) warnings.push('the held-back frames are calibration frames too (too few frames to set any aside): the check is optimistic');
  if (!search) warnings.push('nothing was quantized, so the label-free check had nothing to compare');
  const estimatedDrop = search?.estimatedDrop ?? 0;
  return int8Summary({
    plan,
    keptFloat: result.keepFloat,
    macs: result.macs,
    agreement: {
      heldBackFrames: search ? request.heldBack().length : 0,
      heldBackShared: request.heldBackShared,
      floor: search?.agreement.floor ?? 1,
      allInt8: search?.agreement.allInt8 ?? 1,
      chosen: search?.agreement.chosen ?? 1,
      estimatedDrop,
      ...(search ? { estimatedDropInterval: search.estimatedDropInterval } : {}),
      maxDrop: settings.search ? settings.maxDrop : null,
      passed: estimatedDrop <= settings.maxDrop,
      trials: search?.trials ?? [],
    },
    seconds: result.seconds,
    warnings,
  });
}

export const openVinoInt8Quantizer: Int8Quantizer = {
  extension: '.xml',
  companions: ['.bin'],
  opensFromPath: true,
  id: (report) => `openvino ${report.backends.openvino.version ?? 'unknown'} (FakeQuantize IR)`,
  async quantize(request) {
    const { settings } = request;
    const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-ov-engine-'));
    try {
      const held = withHeldBack(request);
      const result = await quantizeForOpenVino({
        model: request.model,
        calibrator: held.calibrator,
        out: path.join(folder, 'model.int8.xml'),
        preset: presetFor(settings.activations),
        method: settings.method,
        ...(settings.biasCorrection !== undefined ? { biasCorrection: settings.biasCorrection } : {}),
        ignoredScope: settings.ignoredScope,
        heldBack: {
          get frames() {
            return held.frames();
          },
          preprocess: request.preprocess,
        },
        // search false: the check runs, every activation stays INT8 (as the portable flow does).
        maxDrop: settings.search ? settings.maxDrop : Number.POSITIVE_INFINITY,
        engineOptions: request.engineOptions,
        ...(request.threads !== undefined ? { threads: request.threads } : {}),
        ...(request.signal ? { signal: request.signal } : {}),
        ...(request.onProgress ? { onProgress: request.onProgress } : {}),
      });
      const [xml, bin] = await Promise.all([fs.readFile(result.xmlPath), fs.readFile(result.binPath)]);
      return { bytes: xml, companions: new Map([['.bin', bin]]), summary: summarize(request, result) };
    } finally {
      await fs.rm(folder, { recursive: true, force: true });
    }
  },
};
