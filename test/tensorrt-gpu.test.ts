/**
 * TensorRT on a real GPU: FP32, FP16 and INT8 (implicit where the version has it, and explicit
 * from the portable quantizer's Q/DQ model) engines of YOLOX-Nano, INT8 mAP@[.5:.95] within 1.0
 * point of FP32 on coco/eval, and the INT8/FP32 latency ratio. Skipped, with the reason printed,
 * where the TensorRT module is not built or sees no GPU.
 */
import test from 'ava';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TensorRtBackendOptions } from '../lib/runtimes/tensorrt/descriptor';
import { median } from '../lib/util/statistics';
import { cpuInfo } from '../lib/hardware/cpu';
import { resolveModelProfile } from '../lib/detect/profile';
import { createEngine, type Engine, type EngineOptions } from '../lib/engine';
import { loadCocoDataset, type CocoDataset } from '../lib/eval/coco';
import { evaluateEngine } from '../lib/eval/evaluate-engine';
import { decodeImage } from '../lib/image/decode';
import { readModelInfo } from '../lib/onnx/model-info';
import { calibratorFromFolder } from '../lib/quantize/calibrator';
import { quantizeModel } from '../lib/runtimes/onnxruntime/quantize';
import { emitTensorRtCalibrationCache } from '../lib/quantize/emitters/tensorrt-cache';
import { tensorRtModuleStatus } from '../lib/runtimes/tensorrt/module';
import type { NativeTensorRtRuntimeInfo } from '../lib/runtimes/tensorrt/native-types';
import { runtimeStatusSync } from './helpers/runtime-status';
import { decodeTensorRtVersion, encodeTensorRtVersion } from '../lib/runtimes/tensorrt/version';
import { coco, models } from './helpers/fixtures';

const status = runtimeStatusSync('tensorrt');
const skipReason = status.loaded && status.devices.length > 0 ? undefined : (status.reason ?? 'TensorRT sees no GPU');

if (skipReason !== undefined) {
  console.log(`tensorrt-gpu: skipped: ${skipReason}`);
  test.skip(`TensorRT GPU engines (skipped: ${skipReason})`, () => {});
} else {
  let info: NativeTensorRtRuntimeInfo | undefined;
  const calibrationFrames = 177;
  let cacheDir = '';
  let dataset: CocoDataset;
  const results = new Map<string, { mAP: number; engine: Engine }>();

  test.before(async () => {
    const loaded = await tensorRtModuleStatus();
    info = loaded.loaded ? loaded.info : undefined;
    cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-trt-gpu-'));
    process.env.INT8_DETECT_CACHE_DIR = cacheDir;
    dataset = await loadCocoDataset(coco.evalAnnotations);
  });
  test.after.always(async () => {
    for (const { engine } of results.values()) await engine.dispose();
    await fs.rm(cacheDir, { recursive: true, force: true });
  });

  const profile = () => resolveModelProfile({ info: readModelInfo(require('node:fs').readFileSync(models.yoloxNano)) });
  const calibrator = () => calibratorFromFolder(coco.calibImages, { preprocess: profile().preprocess, inputName: profile().inputName, limit: calibrationFrames });

  async function evaluate(label: string, options: EngineOptions & { tensorrt?: TensorRtBackendOptions }): Promise<number> {
    const engine = await createEngine(options);
    const { metrics } = await evaluateEngine(engine, { imagesDir: coco.evalImages, dataset });
    results.set(label, { mAP: metrics.mAP, engine });
    console.log(`tensorrt-gpu: ${label.padEnd(22)} mAP@[.5:.95] ${(metrics.mAP * 100).toFixed(2)}  (${engine.info.precision} on ${engine.info.device}, TensorRT ${engine.info.runtimeVersion})`);
    return metrics.mAP;
  }

  test.serial('FP32 engine: built, cached with a sidecar, and as accurate as the model', async (t) => {
    const mAP = await evaluate('fp32', { model: models.yoloxNano, backend: 'tensorrt', precision: 'fp32' });
    t.true(mAP > 0.2, `FP32 mAP ${mAP}`);
    const plans = (await fs.readdir(path.join(cacheDir, 'tensorrt'))).filter((f) => f.endsWith('.plan'));
    t.is(plans.length, 1);
    const sidecar = JSON.parse(await fs.readFile(path.join(cacheDir, 'tensorrt', `${plans[0]}.json`), 'utf8'));
    t.is(sidecar.key.precision, 'fp32');
    t.is(sidecar.key.tensorrt, results.get('fp32')?.engine.info.runtimeVersion);
    const again = await createEngine({ model: models.yoloxNano, backend: 'tensorrt', precision: 'fp32' });
    t.is(again.info.backend, 'tensorrt');
    await again.dispose();
    const after = JSON.parse(await fs.readFile(path.join(cacheDir, 'tensorrt', `${plans[0]}.json`), 'utf8'));
    t.is(after.record.builtAt, sidecar.record.builtAt, 'the second engine reused the cached plan');
  });

  test.serial('FP16 engine within 1.0 point of FP32', async (t) => {
    if (!info?.capabilities.precisionFlags) {
      t.log('TensorRT 11 has no FP16 flag: an FP16 engine needs an FP16 ONNX model');
      t.pass();
      return;
    }
    const mAP = await evaluate('fp16', { model: models.yoloxNano, backend: 'tensorrt', precision: 'fp16' });
    t.true(Math.abs(mAP - (results.get('fp32')?.mAP ?? 0)) <= 0.01, `FP16 ${mAP} vs FP32 ${results.get('fp32')?.mAP}`);
  });

  test.serial('INT8 explicit (Q/DQ model from the portable quantizer), and implicit from its calibration cache, within 1.0 point of FP32', async (t) => {
    const quantized = await quantizeModel({ model: models.yoloxNano, calibrator: await calibrator(), allTensors: true });
    const qdq = path.join(cacheDir, 'yolox_nano.qdq.onnx');
    await fs.writeFile(qdq, quantized.bytes);
    const fp32 = results.get('fp32')?.mAP ?? 0;
    const explicit = await evaluate('int8 explicit (Q/DQ)', { model: qdq, backend: 'tensorrt' });
    t.is(results.get('int8 explicit (Q/DQ)')?.engine.info.precision, 'int8');
    t.true(fp32 - explicit <= 0.01, `explicit INT8 ${explicit} vs FP32 ${fp32}`);
    if (!info?.capabilities.implicitInt8) {
      t.log(`TensorRT ${info?.libraryVersion} has no implicit INT8`);
      return;
    }
    const version = encodeTensorRtVersion(decodeTensorRtVersion(info.libraryVersion));
    const cacheFile = path.join(cacheDir, 'yolox_nano.calib');
    await fs.writeFile(cacheFile, emitTensorRtCalibrationCache(quantized.statistics.statistics, quantized.plan, { version }));
    const fromCache = await evaluate('int8 implicit (cache)', {
      model: models.yoloxNano,
      backend: 'tensorrt',
      precision: 'int8',
      tensorrt: { calibrationCache: cacheFile },
    });
    t.true(fp32 - fromCache <= 0.01, `implicit INT8 from the portable cache ${fromCache} vs FP32 ${fp32}`);
  });

  test.serial('INT8 implicit, calibrated on the device through the bridge (entropy v2), within 1.0 point of FP32', async (t) => {
    if (!info?.capabilities.implicitInt8) {
      t.log('no implicit INT8 in this TensorRT');
      t.pass();
      return;
    }
    const mAP = await evaluate('int8 implicit (device)', {
      model: models.yoloxNano,
      backend: 'tensorrt',
      precision: 'int8',
      tensorrt: { calibrator: await calibrator(), calibrationId: 'coco-calib-177' },
    });
    const fp32 = results.get('fp32')?.mAP ?? 0;
    t.true(fp32 - mAP <= 0.01, `implicit INT8 ${mAP} vs FP32 ${fp32}`);
  });

  test.serial('latency: INT8 against FP32, interleaved rounds, medians', async (t) => {
    const fp32 = results.get('fp32')?.engine;
    const int8 = results.get('int8 implicit (device)')?.engine ?? results.get('int8 explicit (Q/DQ)')?.engine;
    if (!fp32 || !int8) return t.fail('the engines of the earlier tests are missing');
    const frame = await decodeImage(path.join(coco.evalImages, dataset.images[0].file_name));
    const times: Record<'fp32' | 'int8', number[]> = { fp32: [], int8: [] };
    for (const engine of [fp32, int8]) for (let i = 0; i < 10; i++) await engine.detect(frame);
    for (let round = 0; round < 5; round++) {
      for (const [label, engine] of [['fp32', fp32], ['int8', int8]] as const) {
        for (let i = 0; i < 30; i++) {
          const started = process.hrtime.bigint();
          await engine.detect(frame);
          times[label].push(Number(process.hrtime.bigint() - started) / 1e6);
        }
      }
    }
    const fp32Ms = median(times.fp32);
    const int8Ms = median(times.int8);
    console.log(
      `tensorrt-gpu: detect() median FP32 ${fp32Ms.toFixed(2)} ms, INT8 ${int8Ms.toFixed(2)} ms, INT8/FP32 ${(int8Ms / fp32Ms).toFixed(2)} ` +
        `on ${fp32.info.device} (CPU: ${cpuInfo().model}, ${cpuInfo().int8Summary})`,
    );
    t.true(fp32Ms > 0 && int8Ms > 0);
  });
}
