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

export interface CoreTestModule {
  /**
   * The calibrator bridge TensorRT's getBatch uses, driven from a native thread: pulls batches from
   * `pull` until null, `maxBatches`, a timeout, an abort or a failure (rejects with code
   * 'ERR_CALIBRATION' and reason 'timeout' | 'aborted' | 'failed').
   */
  testCalibrationBridge(options: NativeCalibrationBridgeTest): { promise: Promise<NativeCalibrationBridgeResult>; abort(reason?: string): void };
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
