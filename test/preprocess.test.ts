import * as path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { Int8DetectError } from '../lib/util/errors';
import { PIXEL_FORMATS, validateRawFrame, type PixelFormat, type ValidatedFrame } from '../lib/image/frame';
import { letterboxGeometry } from '../lib/detect/letterbox';
import { buildPreprocessJob, preprocessFrame, preprocessFrameSync, tensorSize } from '../lib/detect/preprocess';
import type { PreprocessSpec } from '../lib/detect/types';
import { loadCoreAddon, type NativePreprocessJob } from '../lib/native/core-addon';
import { coco } from './helpers/fixtures';
import {
  cropRgb,
  decodeRgb,
  makeFrame,
  referencePreprocess,
  rgbToYuv,
  type FrameLayoutOptions,
  type ReferenceTarget,
  type RgbImage,
} from './helpers/reference-preprocess';

const image640x480 = path.join(coco.evalImages, '000000017627.jpg');
const imagePortrait = path.join(coco.evalImages, '000000006818.jpg'); // 427x640: odd width

let landscape: RgbImage;
let portrait: RgbImage;

test.before(async () => {
  landscape = await decodeRgb(image640x480);
  portrait = await decodeRgb(imagePortrait);
});

type Dst = Float32Array | Uint8Array;

function yoloxSpec(): PreprocessSpec {
  return { width: 416, height: 416, layout: 'nchw', dtype: 'float32', channelOrder: 'bgr', scale: 1, mean: [0, 0, 0], std: [1, 1, 1], padValue: 114, placement: 'topleft' };
}

// Per-channel mean and std that differ, so a channel sent to the wrong place cannot pass.
function imagenetSpec(overrides: Partial<PreprocessSpec>): PreprocessSpec {
  return {
    width: 416,
    height: 416,
    layout: 'nchw',
    dtype: 'float32',
    channelOrder: 'rgb',
    scale: 1 / 255,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    padValue: 114,
    placement: 'center',
    ...overrides,
  };
}

function allocate(spec: PreprocessSpec): Dst {
  // NaN (float) or a sentinel pattern (uint8) shows any element the kernels forgot to write.
  return spec.dtype === 'float32' ? new Float32Array(tensorSize(spec)).fill(NaN) : new Uint8Array(tensorSize(spec)).fill(7);
}

function referenceTarget(frame: ValidatedFrame, spec: PreprocessSpec): ReferenceTarget {
  const g = letterboxGeometry(frame.width, frame.height, spec.width, spec.height, spec.placement);
  return {
    dstWidth: spec.width,
    dstHeight: spec.height,
    layout: spec.layout,
    channelOrder: spec.channelOrder,
    dtype: spec.dtype,
    resizedWidth: g.resizedWidth,
    resizedHeight: g.resizedHeight,
    offsetX: g.offsetX,
    offsetY: g.offsetY,
    padValue: spec.padValue,
    scale: spec.scale,
    mean: spec.mean,
    std: spec.std,
  };
}

function isPad(i: number, r: ReferenceTarget): boolean {
  const channels = r.channelOrder === 'gray' ? 1 : 3;
  const pixel = r.layout === 'nchw' ? i % (r.dstWidth * r.dstHeight) : Math.floor(i / channels);
  const x = pixel % r.dstWidth;
  const y = Math.floor(pixel / r.dstWidth);
  return x < r.offsetX || x >= r.offsetX + r.resizedWidth || y < r.offsetY || y >= r.offsetY + r.resizedHeight;
}

/** Float within 1e-3 and uint8 within 1 of the reference inside the box; pad exactly equal. */
function assertMatchesReference(t: ExecutionContext, frame: ValidatedFrame, spec: PreprocessSpec, actual: Dst, label: string): number {
  const r = referenceTarget(frame, spec);
  const expected = referencePreprocess(frame, r);
  t.is(actual.length, expected.length, label);
  const tolerance = spec.dtype === 'uint8' ? 1 : 1e-3;
  let worst = 0;
  let worstAt = -1;
  let padMismatch = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (isPad(i, r)) {
      if (a !== e && padMismatch < 0) padMismatch = i;
      continue;
    }
    const d = Math.abs(a - e);
    if (!(d <= worst)) {
      worst = d;
      worstAt = i;
    }
  }
  t.is(padMismatch, -1, `${label}: pad element ${padMismatch} is ${actual[padMismatch]}, expected ${expected[padMismatch]}`);
  t.true(worst <= tolerance, `${label}: max |diff| ${worst} at ${worstAt} (got ${actual[worstAt]}, expected ${expected[worstAt]})`);
  return worst;
}

function frameOf(image: RgbImage, format: PixelFormat, options?: FrameLayoutOptions): ValidatedFrame {
  return validateRawFrame(makeFrame(image, format, options));
}

const LAYOUTS = ['nchw', 'nhwc'] as const;
const ORDERS = ['rgb', 'bgr', 'gray'] as const;
const PLACEMENTS = ['topleft', 'center'] as const;
const DTYPES = ['float32', 'uint8'] as const;

for (const format of PIXEL_FORMATS) {
  test(`${format} frame matches the reference for every layout, channel order, placement and dtype`, (t) => {
    const frame = frameOf(landscape, format);
    let combinations = 0;
    for (const layout of LAYOUTS) {
      for (const channelOrder of ORDERS) {
        for (const placement of PLACEMENTS) {
          for (const dtype of DTYPES) {
            // 288: a non-integer shrink factor from 640 (2.22), and a quicker reference than 416.
            const spec = imagenetSpec({ width: 288, height: 288, layout, channelOrder, placement, dtype });
            const dst = allocate(spec);
            preprocessFrameSync(frame, spec, dst);
            assertMatchesReference(t, frame, spec, dst, `${format} -> ${layout} ${channelOrder} ${placement} ${dtype}`);
            combinations++;
          }
        }
      }
    }
    t.is(combinations, 24);
  });
}

test('odd sizes and strides wider than the row, shrinking to a non-square tensor', (t) => {
  // 427x640 (odd width) for packed formats; YUV needs even sizes, so a 426x638 crop.
  for (const format of PIXEL_FORMATS) {
    const yuv = format === 'nv12' || format === 'i420';
    const image = yuv ? cropRgb(portrait, 1, 1, 426, 638) : portrait;
    const frame = frameOf(image, format, { rowPadding: 13, chromaPadding: 6, chromaGap: 5, colorMatrix: 'bt709', colorRange: 'full' });
    t.true(frame.stride > frame.width * (format === 'rgba' || format === 'bgra' ? 4 : format === 'rgb' || format === 'bgr' ? 3 : 1));
    for (const dtype of DTYPES) {
      for (const layout of LAYOUTS) {
        const spec = imagenetSpec({ width: 161, height: 97, dtype, layout, channelOrder: 'bgr' });
        const dst = allocate(spec);
        preprocessFrameSync(frame, spec, dst);
        assertMatchesReference(t, frame, spec, dst, `${format} 427-wide stride ${frame.stride} -> 161x97 ${layout} ${dtype}`);
      }
    }
  }
});

test('upscaling a small crop to 416x416', (t) => {
  const crop = cropRgb(landscape, 200, 150, 52, 38);
  for (const format of PIXEL_FORMATS) {
    const frame = frameOf(crop, format, { rowPadding: 3 });
    for (const channelOrder of ORDERS) {
      const spec = imagenetSpec({ channelOrder, layout: 'nhwc' });
      const dst = allocate(spec);
      preprocessFrameSync(frame, spec, dst);
      assertMatchesReference(t, frame, spec, dst, `${format} 52x38 -> 416 ${channelOrder}`);
      const spec8 = imagenetSpec({ channelOrder, dtype: 'uint8', placement: 'topleft' });
      const dst8 = allocate(spec8);
      preprocessFrameSync(frame, spec8, dst8);
      assertMatchesReference(t, frame, spec8, dst8, `${format} 52x38 -> 416 ${channelOrder} uint8`);
    }
  }
});

test('tiny frames: 1x1 and 2x2, into small and odd tensors', (t) => {
  for (const [w, h] of [
    [1, 1],
    [2, 2],
    [3, 1],
  ] as const) {
    const tiny = cropRgb(landscape, 300, 200, w, h);
    for (const format of PIXEL_FORMATS) {
      if ((format === 'nv12' || format === 'i420') && (w % 2 || h % 2)) continue;
      const frame = frameOf(tiny, format);
      for (const [width, height] of [
        [1, 1],
        [5, 3],
        [8, 8],
      ] as const) {
        for (const dtype of DTYPES) {
          const spec = imagenetSpec({ width, height, dtype, layout: width === 5 ? 'nhwc' : 'nchw' });
          const dst = allocate(spec);
          preprocessFrameSync(frame, spec, dst);
          assertMatchesReference(t, frame, spec, dst, `${format} ${w}x${h} -> ${width}x${height} ${dtype}`);
        }
      }
    }
  }
});

test('YUV conversion: published colour codes decode to the colour, and our encoding round-trips', (t) => {
  const addon = loadCoreAddon();
  // A uniform 2x2 YUV frame decoded to one RGB pixel, unrounded (float, scale 1, no mean/std).
  const decode = (y: number, u: number, v: number, colorMatrix: 'bt601' | 'bt709', colorRange: 'limited' | 'full') => {
    const src = new Uint8Array([y, y, y, y, u, v]);
    const dst = new Float32Array(3);
    addon.preprocessSync({
      ...nativeJob(src, 'nv12', 2, 2),
      colorMatrix,
      colorRange,
      dst,
      dstWidth: 1,
      dstHeight: 1,
      resizedWidth: 1,
      resizedHeight: 1,
      offsetY: 0,
    });
    return Array.from(dst);
  };
  const near = (got: number[], want: number[], tolerance: number, label: string) =>
    t.true(got.every((v, i) => Math.abs(v - want[i]!) <= tolerance), `${label}: got ${got.map((v) => v.toFixed(2))}, want ${want}`);

  // Rec. 601 / Rec. 709 8-bit studio-range codes for the primaries (rounded in the standards' tables).
  near(decode(81, 90, 240, 'bt601', 'limited'), [255, 0, 0], 1.5, 'BT.601 red');
  near(decode(145, 54, 34, 'bt601', 'limited'), [0, 255, 0], 1.5, 'BT.601 green');
  near(decode(41, 240, 110, 'bt601', 'limited'), [0, 0, 255], 1.5, 'BT.601 blue');
  near(decode(63, 102, 240, 'bt709', 'limited'), [255, 0, 0], 1.5, 'BT.709 red');
  near(decode(173, 42, 26, 'bt709', 'limited'), [0, 255, 0], 1.5, 'BT.709 green');
  near(decode(235, 128, 128, 'bt601', 'limited'), [255, 255, 255], 1e-3, 'white');
  near(decode(16, 128, 128, 'bt709', 'limited'), [0, 0, 0], 1e-3, 'black');
  near(decode(128, 128, 128, 'bt601', 'full'), [128, 128, 128], 1e-3, 'full-range grey');

  // Encode with the test helper, round to 8-bit codes, decode natively: back within rounding.
  for (const colorMatrix of ['bt601', 'bt709'] as const) {
    for (const colorRange of ['limited', 'full'] as const) {
      for (const rgb of [
        [200, 100, 50],
        [12, 180, 240],
        [90, 90, 90],
        [250, 250, 5],
      ]) {
        const [y, u, v] = rgbToYuv(rgb[0]!, rgb[1]!, rgb[2]!, colorMatrix, colorRange).map(Math.round) as [number, number, number];
        near(decode(y, u, v, colorMatrix, colorRange), rgb, 2, `${colorMatrix} ${colorRange} (${rgb})`);
      }
    }
  }
});

test('the async worker and the sync path write identical bytes, also when run concurrently', async (t) => {
  for (const format of ['rgb', 'nv12', 'bgra'] as const) {
    const frame = frameOf(landscape, format);
    t.true(frame.width * frame.height >= 65536, 'large enough for the worker path');
    const spec = imagenetSpec({ layout: format === 'bgra' ? 'nhwc' : 'nchw' });
    const expected = allocate(spec);
    preprocessFrameSync(frame, spec, expected);
    const outputs = Array.from({ length: 6 }, () => allocate(spec));
    const geometries = await Promise.all(outputs.map((dst) => preprocessFrame(frame, spec, dst)));
    const expectedBytes = Buffer.from(expected.buffer);
    for (const dst of outputs) t.true(Buffer.from(dst.buffer).equals(expectedBytes), `${format}: async bytes differ from sync`);
    t.deepEqual(geometries[0], letterboxGeometry(640, 480, 416, 416, 'center'));
    // The native entry points directly as well, not only through the size threshold.
    const direct = allocate(spec);
    await loadCoreAddon().preprocess(buildPreprocessJob(frame, spec, direct).job);
    t.true(Buffer.from(direct.buffer).equals(expectedBytes));
  }
});

test('everything outside the resized box is exactly the pad value, in both layouts and dtypes', (t) => {
  const frame = frameOf(portrait, 'rgb');
  for (const layout of LAYOUTS) {
    for (const dtype of DTYPES) {
      const spec = imagenetSpec({ layout, dtype, width: 320, height: 256, padValue: 37 });
      const dst = allocate(spec);
      const g = preprocessFrameSync(frame, spec, dst);
      t.true(g.offsetX > 0 && g.resizedHeight === 256, 'portrait into landscape pads left and right');
      const r = referenceTarget(frame, spec);
      const pads = dtype === 'uint8' ? [37, 37, 37] : [0, 1, 2].map((c) => Math.fround((37 / 255 - spec.mean[c]!) / spec.std[c]!));
      let padCount = 0;
      for (let i = 0; i < dst.length; i++) {
        const c = layout === 'nchw' ? Math.floor(i / (320 * 256)) : i % 3;
        if (isPad(i, r)) {
          padCount++;
          if (dst[i] !== pads[c]) return t.fail(`element ${i} (channel ${c}) is ${dst[i]}, expected pad ${pads[c]}`);
        } else if (Number.isNaN(dst[i]!)) {
          return t.fail(`element ${i} inside the box was never written`);
        }
      }
      t.is(padCount, (320 * 256 - g.resizedWidth * g.resizedHeight) * 3);
    }
  }
});

test('YOLOX facts: 640x480 BGR, scale 1, top-left, pad 114, 416x416', (t) => {
  const frame = frameOf(landscape, 'rgb');
  const spec = yoloxSpec();
  const dst = new Float32Array(tensorSize(spec));
  t.is(dst.length, 3 * 416 * 416);
  const g = preprocessFrameSync(frame, spec, dst);
  t.deepEqual(
    { scale: g.scale, resizedWidth: g.resizedWidth, resizedHeight: g.resizedHeight, offsetX: g.offsetX, offsetY: g.offsetY },
    { scale: 0.65, resizedWidth: 416, resizedHeight: 312, offsetX: 0, offsetY: 0 },
  );
  // Rows 312..415 of every channel plane are padding; raw pixel values, no normalisation.
  for (let c = 0; c < 3; c++) {
    const band = dst.subarray(c * 416 * 416 + 312 * 416, (c + 1) * 416 * 416);
    t.true(band.every((v) => v === 114), `channel ${c} bottom band is 114`);
  }
  assertMatchesReference(t, frame, spec, dst, 'yolox');
  // The same tensor from a BGR frame: channel order is decided by the spec, not the source.
  const fromBgr = new Float32Array(tensorSize(spec));
  preprocessFrameSync(frameOf(landscape, 'bgr'), spec, fromBgr);
  t.true(Buffer.from(fromBgr.buffer).equals(Buffer.from(dst.buffer)));
});

test('Ultralytics placement: 640x480 into 640x640 is centred with 80-pixel bands', (t) => {
  const frame = frameOf(landscape, 'rgb');
  const spec = imagenetSpec({ width: 640, height: 640, scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1] });
  const dst = new Float32Array(tensorSize(spec));
  const g = preprocessFrameSync(frame, spec, dst);
  t.is(g.offsetY, 80);
  t.is(g.resizedHeight, 480);
  const pad = Math.fround(114 / 255);
  t.true(dst.subarray(0, 80 * 640).every((v) => v === pad));
  t.true(dst.subarray(560 * 640, 640 * 640).every((v) => v === pad));
  // No resize at scale 1: the tensor's first image row is the source's first row, /255.
  let worst = 0;
  for (let x = 0; x < 640; x++) worst = Math.max(worst, Math.abs(dst[80 * 640 + x]! - landscape.data[x * 3]! / 255));
  t.true(worst < 1e-6, `first row differs from the source by up to ${worst}`);
});

// ---- Errors: each names the problem and throws; none crashes the process. ----

function nativeJob(src: Uint8Array, format: PixelFormat, width: number, height: number): NativePreprocessJob {
  const bpp = format === 'gray' || format === 'nv12' || format === 'i420' ? 1 : format === 'rgba' || format === 'bgra' ? 4 : 3;
  return {
    src,
    width,
    height,
    format,
    stride: width * bpp,
    uvOffset: format === 'nv12' || format === 'i420' ? width * height : 0,
    uvStride: format === 'nv12' ? width : format === 'i420' ? width / 2 : 0,
    vOffset: format === 'i420' ? width * height + (width / 2) * (height / 2) : 0,
    colorMatrix: 'bt601',
    colorRange: 'limited',
    dst: new Float32Array(3 * 8 * 8),
    dstWidth: 8,
    dstHeight: 8,
    layout: 'nchw',
    channelOrder: 'rgb',
    resizedWidth: 8,
    resizedHeight: 6,
    offsetX: 0,
    offsetY: 1,
    padValue: 114,
    scale: 1,
    mean: [0, 0, 0],
    std: [1, 1, 1],
  };
}

test('the addon refuses bad jobs with a message naming the field and the values', (t) => {
  const addon = loadCoreAddon();
  const good = nativeJob(new Uint8Array(16 * 12 * 3), 'rgb', 16, 12);
  t.notThrows(() => addon.preprocessSync(good));
  const cases: Array<[string, Partial<NativePreprocessJob> | Record<string, unknown>, RegExp, string]> = [
    ['src too small', { src: new Uint8Array(16 * 12 * 3 - 1) }, /job\.src is too small.*needs 576 bytes.*has 575/, 'ERR_FRAME'],
    ['stride under the row', { stride: 40 }, /job\.stride is 40.*at least 48/, 'ERR_FRAME'],
    ['dst too small', { dst: new Float32Array(100) }, /job\.dst has 100 elements.*8 x 8 x 3 = 192/, 'ERR_ARGUMENT'],
    ['dst of the wrong type', { dst: new Float64Array(192) }, /Float32Array or Uint8Array for job\.dst.*Float64Array/, 'ERR_ARGUMENT'],
    ['unknown format', { format: 'yuyv' }, /one of 'rgb'.*for job\.format but received "yuyv"/, 'ERR_FRAME'],
    ['unknown layout', { layout: 'chw' }, /for job\.layout but received "chw"/, 'ERR_ARGUMENT'],
    ['non-integer width', { width: 15.5 }, /positive integer for job\.width but received 15\.5/, 'ERR_FRAME'],
    ['negative height', { height: -12 }, /positive integer for job\.height but received -12/, 'ERR_FRAME'],
    ['negative offset', { offsetX: -1 }, /non-negative integer for job\.offsetX but received -1/, 'ERR_ARGUMENT'],
    ['NaN stride', { stride: NaN }, /job\.stride but received NaN/, 'ERR_FRAME'],
    ['huge width', { width: 2 ** 40 }, /at most 2147483647 for job\.width/, 'ERR_FRAME'],
    ['box past the right edge', { offsetX: 1 }, /resized box \(job\.offsetX 1, job\.resizedWidth 8\).*job\.dstWidth 8/, 'ERR_ARGUMENT'],
    ['box past the bottom', { resizedHeight: 8 }, /job\.offsetY 1, job\.resizedHeight 8/, 'ERR_ARGUMENT'],
    ['zero std', { std: [1, 0, 1] }, /job\.std\[1\] must be finite and non-zero/, 'ERR_ARGUMENT'],
    ['short mean', { mean: [0, 0] }, /array of 3 numbers for job\.mean/, 'ERR_ARGUMENT'],
    ['pad out of range', { padValue: 300 }, /job\.padValue must be a pixel value in 0\.\.255 but is 300/, 'ERR_ARGUMENT'],
    ['missing colour range', { colorRange: undefined }, /for job\.colorRange but received undefined/, 'ERR_FRAME'],
    ['src not bytes', { src: new Uint16Array(600) }, /Buffer or Uint8Array for job\.src but received Uint16Array/, 'ERR_FRAME'],
  ];
  for (const [label, change, message, code] of cases) {
    const err = t.throws(() => addon.preprocessSync({ ...good, ...change } as NativePreprocessJob), { instanceOf: Error, message }, label);
    t.is((err as Error & { code?: string } | undefined)?.code, code, label);
  }
  const shared = new Uint8Array(16 * 12 * 3 + 192);
  t.throws(() => addon.preprocessSync({ ...good, src: shared.subarray(0, 576), dst: shared.subarray(300, 492) }), {
    message: /job\.dst shares memory with job\.src/,
  });
  t.throws(() => addon.preprocessSync(null as unknown as NativePreprocessJob), { message: /preprocessing job object but received null/ });
  // The async entry point checks on the calling thread: a bad job throws before any promise.
  t.throws(() => addon.preprocess({ ...good, format: 'yuyv' } as unknown as NativePreprocessJob), { message: /job\.format/ });
});

test('the addon checks every chroma plane of NV12 and I420 frames', (t) => {
  const addon = loadCoreAddon();
  const nv12 = nativeJob(new Uint8Array(16 * 12 * 1.5), 'nv12', 16, 12);
  t.notThrows(() => addon.preprocessSync(nv12));
  t.throws(() => addon.preprocessSync({ ...nv12, uvOffset: 16 * 12 + 1 }), { message: /UV plane.*job\.uvOffset 193.*needs 289 bytes.*has 288/ });
  t.throws(() => addon.preprocessSync({ ...nv12, uvStride: 15 }), { message: /job\.uvStride is 15.*at least 16/ });
  t.throws(() => addon.preprocessSync({ ...nv12, width: 15, stride: 16 }), { message: /even job\.width and job\.height but is 15x12/ });
  const i420 = nativeJob(new Uint8Array(16 * 12 * 1.5), 'i420', 16, 12);
  t.notThrows(() => addon.preprocessSync(i420));
  t.throws(() => addon.preprocessSync({ ...i420, vOffset: 16 * 12 * 1.5 - 47 }), { message: /V plane.*job\.vOffset 241.*needs 289 bytes/ });
  t.throws(() => addon.preprocessSync({ ...i420, uvOffset: 2 ** 52, uvStride: 2 ** 52 }), { message: /U plane.*job\.uvOffset 4503599627370496 with job\.uvStride 4503599627370496 needs \d+ bytes/ });
});

test('preprocessFrame reports bad specs, destinations and frames as Int8DetectErrors', async (t) => {
  const frame = frameOf(cropRgb(landscape, 0, 0, 64, 48), 'rgb');
  const spec = yoloxSpec();
  const dst = new Float32Array(tensorSize(spec));
  await t.throwsAsync(preprocessFrame(frame, spec, new Float32Array(10)), {
    instanceOf: Int8DetectError,
    message: /Float32Array of 519168 elements \(416x416, bgr\) for dst but received Float32Array of 10 elements/,
  });
  await t.throwsAsync(preprocessFrame(frame, { ...spec, dtype: 'uint8' }, dst), { message: /Uint8Array \(spec\.dtype is 'uint8'\) for dst/ });
  await t.throwsAsync(preprocessFrame(frame, { ...spec, width: 0 }, dst), { message: /positive integer for spec\.width but received 0/ });
  await t.throwsAsync(preprocessFrame(frame, { ...spec, layout: 'hwc' as 'nhwc' }, dst), { message: /for spec\.layout but received "hwc"/ });
  await t.throwsAsync(preprocessFrame(frame, { ...spec, std: [1, 0, 1] }, dst), { message: /non-zero number for spec\.std\[1\]/ });
  // A hand-made frame whose buffer is shorter than it claims: the addon's check, as ERR_FRAME,
  // on both the sync path (small frame) and the worker path (large frame).
  const short: ValidatedFrame = { ...frame, data: frame.data.subarray(0, 100) };
  const err = await t.throwsAsync(preprocessFrame(short, spec, dst), { instanceOf: Int8DetectError, message: /job\.src is too small/ });
  t.is((err as Int8DetectError).code, 'ERR_FRAME');
  const big = frameOf(landscape, 'rgb');
  const bigErr = await t.throwsAsync(preprocessFrame({ ...big, stride: 10 }, spec, dst), { instanceOf: Int8DetectError, message: /job\.stride is 10/ });
  t.is((bigErr as Int8DetectError).code, 'ERR_FRAME');
  t.regex((bigErr as Error).stack ?? '', /preprocess\.test/, 'the stack shows the caller');
  t.throws(() => preprocessFrameSync(short, spec, dst), { instanceOf: Int8DetectError, message: /job\.src is too small/ });
});

test('tensorSize counts one image of the spec', (t) => {
  t.is(tensorSize(yoloxSpec()), 519168);
  t.is(tensorSize(imagenetSpec({ width: 64, height: 32, channelOrder: 'gray' })), 2048);
});
