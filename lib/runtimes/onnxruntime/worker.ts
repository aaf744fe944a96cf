/**
 * Worker-thread side of the ONNX Runtime backend. onnxruntime-node runs a session synchronously
 * on the calling thread, which would stall a server's event loop for the whole inference; each
 * session therefore lives in its own worker, and buffers move between threads by transfer.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type * as OrtTypes from 'onnxruntime-node';
import type { RawTensor, TensorInfo } from '../session';
import type { FromWorker, ToWorker, WorkerInit } from './protocol';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ort = require('onnxruntime-node') as typeof OrtTypes;

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(message, transfer);
}

function describe(metadata: readonly OrtTypes.InferenceSession.ValueMetadata[]): TensorInfo[] {
  return metadata.map((m) =>
    m.isTensor ? { name: m.name, type: m.type, dims: m.shape.slice() } : { name: m.name, type: 'non-tensor', dims: [] },
  );
}

/** Buffers to hand back by transfer; an ArrayBuffer can appear only once in a transfer list. */
function transferList(tensors: Iterable<{ data: RawTensor['data'] }>): ArrayBuffer[] {
  const list = new Set<ArrayBuffer>();
  for (const t of tensors) if (t.data.buffer instanceof ArrayBuffer) list.add(t.data.buffer);
  return [...list];
}

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  let session: OrtTypes.InferenceSession;
  try {
    session = await ort.InferenceSession.create(init.modelBytes, {
      intraOpNumThreads: init.intraOpNumThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      enableProfiling: init.enableProfiling,
      profileFilePrefix: init.profileFilePrefix,
      logSeverityLevel: 3,
    });
  } catch (err) {
    post({ type: 'initError', message: err instanceof Error ? err.message : String(err) });
    return;
  }
  post({
    type: 'ready',
    inputs: describe(session.inputMetadata),
    outputs: describe(session.outputMetadata),
    version: ort.env.versions.node ?? ort.env.versions.common,
  });

  parentPort!.on('message', async (message: ToWorker) => {
    if (message.type === 'close') {
      await session.release();
      post({ type: 'closed' });
      parentPort!.close();
      return;
    }
    if (message.type === 'endProfiling') {
      // ONNX Runtime writes <profileFilePrefix>_<timestamp>.json in the working directory.
      session.endProfiling();
      post({ type: 'profile', id: message.id, file: init.profileFilePrefix ?? '' });
      return;
    }
    const feeds: Record<string, OrtTypes.Tensor> = {};
    try {
      for (const [name, t] of Object.entries(message.feeds)) {
        feeds[name] = new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims);
      }
      const results = await session.run(feeds);
      const outputs: Record<string, RawTensor> = {};
      for (const [name, value] of Object.entries(results)) {
        outputs[name] = { name, type: value.type, dims: value.dims.slice(), data: value.data as RawTensor['data'] };
      }
      post({ type: 'result', id: message.id, outputs, feeds: message.feeds }, transferList([
        ...Object.values(outputs),
        ...Object.values(message.feeds),
      ]));
    } catch (err) {
      post(
        { type: 'runError', id: message.id, message: err instanceof Error ? err.message : String(err), feeds: message.feeds },
        transferList(Object.values(message.feeds)),
      );
    }
  });
}

void main();
