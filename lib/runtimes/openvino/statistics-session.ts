/**
 * Calibration statistics from OpenVINO inference: the float model, with the tensors to collect as
 * extra outputs of the ov::Model, compiled for CPU in f32, behind the small session interface that
 * lib/quantize/collect.ts streams into the core addon's native collectors. One statistics
 * implementation for every runtime; only the runner differs.
 */
import type { RawTensor } from '../session';
import type { StatisticsSessionOpener } from '../../quantize/adapter';
import { Int8DetectError } from '../../util/errors';
import { encodeModel, valueInfoShape, type OnnxModel } from '../../onnx/model';
import type { StatisticsSession } from '../../quantize/collect';
import { loadOpenVinoQuantizeBindings } from './quantize-bindings';

export function openVinoStatisticsSession(threads = 0): StatisticsSessionOpener {
  return async (model: OnnxModel, exposed: readonly string[]): Promise<StatisticsSession> => {
    const bindings = await loadOpenVinoQuantizeBindings();
    const initializers = new Set(model.graph.initializers.map((t) => t.name));
    const input = model.graph.inputs.find((i) => !initializers.has(i.name));
    if (!input) throw new Int8DetectError('ERR_MODEL', 'The model has no input to calibrate');
    const dims = valueInfoShape(input).dims ?? [];
    const runner = await bindings.createStatisticsRunner({ model: encodeModel(model), tensors: exposed, threads });
    return {
      inputs: [{ name: input.name, type: 'float32', dims }],
      async run(feeds) {
        const feed = feeds[input.name];
        if (!feed || !(feed.data instanceof Float32Array)) {
          throw new Int8DetectError('ERR_CALIBRATION', `OpenVINO calibration needs float32 batches for input '${input.name}'`);
        }
        const results = await runner.run(feed.data, feed.dims);
        const outputs: Record<string, RawTensor> = {};
        for (const [name, t] of Object.entries(results)) outputs[name] = { name, type: 'float32', dims: t.dims, data: t.data };
        return { outputs, inputs: feeds };
      },
      async dispose() {
        runner.dispose();
      },
    };
  };
}
