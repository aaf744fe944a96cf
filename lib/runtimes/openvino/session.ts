/**
 * An OpenVINO compiled model as a BackendSession: a pool of infer requests (slots.ts), plus its
 * per-layer counters.
 */
import type { PerfCounterReport } from '../session';
import { SlotSession, type SlotSessionFields } from '../slot-session';
import type { NativeOpenVinoModelHandle } from './native-types';

function dimsOf(dims: readonly number[]): (number | string)[] {
  return dims.map((d, i) => (d >= 0 ? d : `dim${i}`));
}

export class OpenVinoSession extends SlotSession {
  constructor(
    private readonly model: NativeOpenVinoModelHandle,
    fields: Omit<SlotSessionFields, 'backend' | 'title' | 'inputs' | 'outputs'>,
  ) {
    super(model, {
      ...fields,
      backend: 'openvino',
      title: 'OpenVINO',
      inputs: model.inputs.map((t) => ({ name: t.name, type: t.type, dims: dimsOf(t.dims) })),
      outputs: model.outputs.map((t) => ({ name: t.name, type: t.type, dims: dimsOf(t.dims) })),
    });
  }

  perfCounters(reset = false): PerfCounterReport | undefined {
    if (this.disposed) return undefined;
    const counters = this.model.perfCounters(reset);
    if (!counters.enabled) return undefined;
    return {
      runs: counters.runs,
      layers: counters.layers.map(({ name, nodeType, execType, status, realTimeUs, runs }) => ({ name, nodeType, execType, status, realTimeUs, runs })),
    };
  }
}
