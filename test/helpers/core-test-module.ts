/**
 * The test-only native module int8_detect_core_test.node (native/test/): hooks that drive native
 * pieces the way a runtime would, so they are tested without that runtime. It is built beside the
 * core, in build/Release/test/, never shipped, and loaded here by explicit path.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../../lib/util/package';

export interface NativeCalibrationBridgeTest {
  /** Resolves (or returns) a Float32Array of exactly elementsPerBatch values, or null at the end. */
  pull: () => Float32Array | null | Promise<Float32Array | null>;
  elementsPerBatch: number;
  timeoutMs: number;
  maxBatches: number;
}

export interface NativeCalibrationBridgeResult {
  batches: number;
  /** Per batch, as the native thread received it: the sum of its values and its first value. */
  sums: number[];
  firsts: number[];
  ended: 'end' | 'limit';
}

export interface NativeCalibrationBuildTest {
  pull: () => Float32Array | null | Promise<Float32Array | null>;
  elementsPerBatch: number;
  timeoutMs: number;
  /** Tactic-search steps after calibration, each `stepMs` long; the monitor is asked after each. */
  steps: number;
  stepMs: number;
  /** 'own': a thread started for the build, as the TensorRT module does; 'pool': libuv's pool, as it did before. */
  thread: 'own' | 'pool';
  onProgress?: ((event: { kind: string; phase: string; step: number; steps: number }) => void) | null;
}

export interface NativeCalibrationBuildResult {
  batches: number;
  stepsRun: number;
}

export interface NativeSlotRun {
  slot: number;
  /** Milliseconds since the session was made. */
  startedMs: number;
  endedMs: number;
}

export interface NativeTestSlotSession {
  slots: number;
  /** Blocks the slot's own thread for `ms`, as a TensorRT run waits on its CUDA stream. */
  run(slot: number, ms: number): Promise<NativeSlotRun>;
  dispose(): void;
}

export interface CoreTestModule {
  /**
   * The calibrator bridge TensorRT's getBatch uses, driven from a native thread: pulls batches from
   * `pull` until null, `maxBatches`, a timeout, an abort or a failure (rejects with code
   * 'ERR_CALIBRATION' and reason 'timeout' | 'aborted' | 'failed').
   */
  testCalibrationBridge(options: NativeCalibrationBridgeTest): { promise: Promise<NativeCalibrationBridgeResult>; abort(reason?: string): void };
  /**
   * A TensorRT build minus TensorRT: calibration through CalibrationFeed (getBatch until false), then
   * `steps` steps each followed by BuildMonitor.StepComplete (IProgressMonitor::stepComplete). Rejects
   * like engine_builder.cc: ERR_CALIBRATION with the feed's failure, else ERR_ABORTED; with
   * `batches` and `stepsRun` on the error too.
   */
  testCalibrationBuild(options: NativeCalibrationBuildTest): { promise: Promise<NativeCalibrationBuildResult>; abort(reason?: string): void };
  /** A session with one native thread per slot (common/slot_threads.h), as the TensorRT module runs engines. */
  testSlotThreads(options: { slots: number }): NativeTestSlotSession;
  /** FloatToHalf of each value, and HalfToFloat of that (common/half.h). */
  testHalf(values: Float32Array): { halves: Uint16Array; floats: Float32Array };
  /** trt::ReadTensorRtDims (native/tensorrt/tensor_shape.h): at most 8 non-negative integers. */
  testReadTensorRtDims(dims: unknown): number[];
  napiVersion: number;
}

export const coreTestModulePath = path.join(packageRoot, 'build', 'Release', 'test', 'int8_detect_core_test.node');

/** Whether the module is built; tests that need it skip with this reason when it is not. */
export const coreTestModuleMissing = fs.existsSync(coreTestModulePath)
  ? undefined
  : `the test-only module ${path.relative(packageRoot, coreTestModulePath)} is not built: run 'npm run build:native'`;

export function loadCoreTestModule(): CoreTestModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(coreTestModulePath) as CoreTestModule;
}
