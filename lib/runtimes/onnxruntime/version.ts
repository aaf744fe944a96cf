/** onnxruntime-node, required lazily: a broken install must become the probe's reason, not a crash at require(). */
import type * as OnnxRuntime from 'onnxruntime-node';

export function onnxRuntimeVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as typeof OnnxRuntime;
  return ort.env.versions.node ?? ort.env.versions.common;
}
