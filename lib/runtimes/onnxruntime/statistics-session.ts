/** Calibration statistics on ONNX Runtime: the float model with the exposed tensors as extra outputs, in a worker. */
import { encodeModel } from '../../onnx/model';
import type { StatisticsSessionOpener } from '../../quantize/adapter';
import { exposeTensors } from '../../quantize/collect';
import { config } from '../../util/config';
import { openOnnxRuntimeSession } from './session';

export function onnxRuntimeStatisticsSession(threads: number): StatisticsSessionOpener {
  return (model, exposed) =>
    openOnnxRuntimeSession({
      modelPath: '(model with calibration outputs)',
      modelBytes: encodeModel(exposeTensors(model, exposed)),
      precision: 'fp32',
      concurrency: 1,
      threads,
      cacheDir: config.cacheDir,
    });
}
