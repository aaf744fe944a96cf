/**
 * A TensorRT engine as a BackendSession: a pool of execution slots (slot-session.ts), each an
 * execution context with its own CUDA stream and pinned buffers. The inputs are copied into
 * pinned memory: the caller's buffers are handed back untouched.
 */
import type { Precision } from '../session';
import { SlotSession } from '../slot-session';
import type { NativeEngineHandle } from './native-types';

export function tensorRtSession(handle: NativeEngineHandle, device: string, precision: Precision, runtimeVersion: string): SlotSession {
  return new SlotSession(handle, {
    backend: 'tensorrt',
    title: 'TensorRT',
    device,
    precision,
    runtimeVersion,
    inputs: handle.tensors.filter((t) => t.input).map((t) => ({ name: t.name, type: t.type, dims: t.dims })),
    outputs: handle.tensors.filter((t) => !t.input).map((t) => ({ name: t.name, type: t.type, dims: t.dims })),
  });
}
