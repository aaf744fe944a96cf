/**
 * Every environment variable the library reads, in one place (node-llama-cpp's config.ts habit).
 */
import * as path from 'node:path';
import { packageRoot } from './package';

function env(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

export const config = {
  /** Where cached engines and quantized models go. */
  get cacheDir(): string {
    return env('INT8_DETECT_CACHE_DIR') ?? path.join(packageRoot, '.cache');
  },
  /**
   * An optional native module to load instead of build/Release/int8_detect_<name>.node:
   * INT8_DETECT_OPENVINO_MODULE, INT8_DETECT_TENSORRT_MODULE (a prebuilt one elsewhere; tests point
   * it at a missing file to see the core run without that runtime).
   */
  nativeModule(name: string): string | undefined {
    return env(`INT8_DETECT_${name.toUpperCase()}_MODULE`);
  },
  /**
   * The server of a backend that runs models on one: INT8_DETECT_<NAME>_URL (INT8_DETECT_TRITON_URL:
   * the Triton server probe() lists and createEngine uses when no url is given).
   */
  serverUrl(name: string): string | undefined {
    return env(`INT8_DETECT_${name.toUpperCase()}_URL`);
  },
  /**
   * Whether MALLOC_ARENA_MAX is in the environment at all (glibc's own variable, read by glibc at
   * start-up): `int8-detect serve` caps malloc arenas itself only when the user has not.
   */
  get mallocArenaMaxGiven(): boolean {
    return process.env.MALLOC_ARENA_MAX !== undefined;
  },
  /** The shared test fixtures (models, COCO images); tests and scripts only. */
  get fixturesDir(): string {
    return path.resolve(env('INT8_DETECT_FIXTURES') ?? path.join(packageRoot, '..', 'shared', 'fixtures'));
  },
  /** Frames with more pixels than this are preprocessed on a worker thread, smaller ones inline. */
  get asyncPreprocessPixels(): number {
    const raw = env('INT8_DETECT_ASYNC_PREPROCESS_PIXELS');
    return raw === undefined ? 65536 : Number(raw);
  },
  /**
   * The Python that runs scripts/gst-launch-env.py (GStreamer sources with credentials): needs
   * PyGObject with GStreamer. Default: python3 on PATH, else /usr/bin/python3 (a virtual
   * environment's python usually lacks gi).
   */
  get gstPythonCandidates(): string[] {
    const given = env('INT8_DETECT_GST_PYTHON');
    return given !== undefined ? [given] : ['python3', '/usr/bin/python3'];
  },
  /** Threads ONNX Runtime uses within one operator; 0 lets it choose. */
  get ortIntraOpThreads(): number {
    const raw = env('INT8_DETECT_ORT_THREADS');
    return raw === undefined ? 0 : Number(raw);
  },
};
