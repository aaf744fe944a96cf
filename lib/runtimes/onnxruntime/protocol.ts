/** Messages between the ONNX Runtime backend and its worker threads. */
import type { RawTensor, TensorInfo } from '../session';

export interface WorkerInit {
  modelBytes: Uint8Array;
  intraOpNumThreads: number;
  enableProfiling: boolean;
  profileFilePrefix?: string;
}

export type ToWorker =
  | { type: 'run'; id: number; feeds: Record<string, { data: RawTensor['data']; dims: readonly number[]; type: string }> }
  | { type: 'endProfiling'; id: number }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; inputs: TensorInfo[]; outputs: TensorInfo[]; version: string }
  | { type: 'initError'; message: string }
  | { type: 'result'; id: number; outputs: Record<string, RawTensor>; feeds: Record<string, { data: RawTensor['data']; dims: readonly number[]; type: string }> }
  | { type: 'runError'; id: number; message: string; feeds: Record<string, { data: RawTensor['data']; dims: readonly number[]; type: string }> }
  | { type: 'profile'; id: number; file: string }
  | { type: 'closed' };
