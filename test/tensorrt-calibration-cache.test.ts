/** TensorRT calibration cache text: read, write, retarget, and the portable quantizer's file. */
import test from 'ava';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Int8DetectError } from '../lib/util/errors';
import { ActivationStatistics } from '../lib/quantize/statistics';
import { emitTensorRtCalibrationCache } from '../lib/quantize/emitters/tensorrt-cache';
import {
  formatCalibrationCache,
  parseCalibrationCache,
  readCalibrationCacheFile,
  retargetCalibrationCache,
  scaleFromHex,
  scaleToHex,
  writeCalibrationCacheFile,
} from '../lib/quantize/emitters/tensorrt-cache-format';

// 0x3c010a14 is the float32 0.007875 (about 1/127); 0x3d8f5c29 is 0.07.
const sample = 'TRT-100300-EntropyCalibration2\nimages: 3c010a14\n/backbone/conv1/Conv_output_0: 3d8f5c29\noutput: 3e4ccccd\n';

test('hex scales are the big-endian float32 bit pattern', (t) => {
  t.is(scaleToHex(1), '3f800000');
  t.is(scaleToHex(0.5), '3f000000');
  t.is(scaleToHex(2 ** -126), '00800000');
  t.is(scaleFromHex('3f800000'), 1);
  t.is(scaleFromHex('3e4ccccd'), Math.fround(0.2));
  for (const value of [1 / 127, 0.0123, 3.5, 1e-6]) t.is(scaleFromHex(scaleToHex(value)), Math.fround(value));
});

test('parse, then format, gives back the same text', (t) => {
  const cache = parseCalibrationCache(sample);
  t.is(cache.version, 100300);
  t.is(cache.algorithm, 'EntropyCalibration2');
  t.deepEqual([...cache.scales.keys()], ['images', '/backbone/conv1/Conv_output_0', 'output']);
  t.is(cache.scales.get('output'), Math.fround(0.2));
  t.is(formatCalibrationCache(cache), sample);
  t.deepEqual(parseCalibrationCache(Buffer.from(sample)), cache, 'bytes parse like text');
  t.deepEqual(parseCalibrationCache(sample.replace(/\n/g, '\r\n')), cache, 'CRLF line ends are accepted');
  t.deepEqual(parseCalibrationCache(sample.slice(0, -1)), cache, 'the last newline is optional');
});

test('retarget: the same scales under the header of the TensorRT that reads them', (t) => {
  const cache = parseCalibrationCache(sample.replace('TRT-100300', 'TRT-8601'));
  const retargeted = retargetCalibrationCache(cache, 100300);
  t.is(formatCalibrationCache(retargeted), sample);
  t.is(cache.version, 8601, 'the original is left as it was');
});

test("round trip with the portable quantizer's cache file", async (t) => {
  const conv = new ActivationStatistics('/backbone/conv1/Conv_output_0');
  conv.add(Float32Array.from({ length: 4096 }, (_, i) => Math.sin(i) * 6));
  const input = new ActivationStatistics('images');
  input.add(Float32Array.from({ length: 4096 }, (_, i) => (i % 256) - 10));
  const statistics = new Map([
    ['images', input],
    ['/backbone/conv1/Conv_output_0', conv],
  ]);
  const text = emitTensorRtCalibrationCache(statistics, undefined, { version: 8601, method: 'minmax' });
  const cache = parseCalibrationCache(text, 'the quantizer cache');
  t.is(cache.version, 8601);
  t.is(cache.algorithm, 'EntropyCalibration2');
  t.deepEqual([...cache.scales.keys()], ['images', '/backbone/conv1/Conv_output_0']);
  // minmax, symmetric: the threshold is the largest magnitude seen.
  t.is(cache.scales.get('images'), Math.fround(245 / 127));
  t.true(Math.abs((cache.scales.get('/backbone/conv1/Conv_output_0') ?? 0) - 6 / 127) < 1e-3);
  t.is(formatCalibrationCache(cache), text, 'our writer reproduces its file byte for byte');

  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-calib-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'yolox.calib');
  await writeCalibrationCacheFile(file, retargetCalibrationCache(cache, 100300));
  const back = await readCalibrationCacheFile(file);
  t.is(back.version, 100300);
  t.deepEqual(back.scales, cache.scales);
});

function parseError(t: { throws: (fn: () => unknown, expectations?: object) => unknown }, text: string): string {
  const err = t.throws(() => parseCalibrationCache(text, 'yolox.calib'), { instanceOf: Int8DetectError }) as Int8DetectError;
  return err.message;
}

test('a truncated or corrupt cache is refused with the line and the reason', (t) => {
  t.is(
    parseError(t, sample.slice(0, sample.length - 4)),
    'yolox.calib is not a usable TensorRT calibration cache: line 4 should be "tensor_name: <8 hex digits>" but is "output: 3e4cc" (the file looks truncated)',
  );
  t.is(parseError(t, 'TRT-100300-Entropy'), 'yolox.calib is not a usable TensorRT calibration cache: line 1 names the algorithm Entropy; expected one of EntropyCalibration2, EntropyCalibration, MinMaxCalibration, LegacyCalibration');
  t.regex(parseError(t, 'images: 3c010a14\n'), /line 1 should be a header like "TRT-100300-EntropyCalibration2" but is "images: 3c010a14"/);
  t.regex(parseError(t, 'TRT-100300-EntropyCalibration2\nimages: 3c01zz14\n'), /line 2 should be "tensor_name: <8 hex digits>" but is "images: 3c01zz14"$/);
  t.regex(parseError(t, 'TRT-100300-EntropyCalibration2\nimages 3c010a14\n'), /line 2 should be/);
  t.regex(parseError(t, 'TRT-100300-EntropyCalibration2\nimages: 7fc00000\n'), /line 2 gives tensor 'images' the scale NaN \(0x7fc00000\)/);
  t.regex(parseError(t, 'TRT-100300-EntropyCalibration2\nimages: 00000000\n'), /the scale 0 \(0x00000000\); a scale must be a positive finite number/);
  t.regex(parseError(t, 'TRT-100300-EntropyCalibration2\nimages: bc010a14\n'), /scale -0\.00787/);
  t.regex(parseError(t, 'TRT-100300-EntropyCalibration2\nimages: 3c010a14\nimages: 3c010a14\n'), /line 3 repeats tensor 'images'/);
  t.regex(parseError(t, 'TRT-100300-EntropyCalibration2\n'), /a header but no tensor scales/);
  t.regex(parseError(t, ''), /it is empty/);
  t.regex(parseError(t, 'TRT-100300-EntropyCalibration2\n\0\0\0'), /NUL bytes/);
});

test('formatCalibrationCache refuses scales and names TensorRT could not read', (t) => {
  const bad = (scales: Map<string, number>, version = 100300) => () => formatCalibrationCache({ version, algorithm: 'EntropyCalibration2', scales });
  t.throws(bad(new Map([['x', 0]])), { message: /scale 0/ });
  t.throws(bad(new Map([['x', Number.POSITIVE_INFINITY]])), { message: /scale Infinity/ });
  t.throws(bad(new Map([['a\nb', 1]])), { message: /cannot be written/ });
  t.throws(bad(new Map([['x', 1]]), 0), { message: /positive integer version/ });
});

test('readCalibrationCacheFile names a missing file', async (t) => {
  await t.throwsAsync(readCalibrationCacheFile('/nonexistent/yolox.calib'), { message: /^Cannot read the calibration cache \/nonexistent\/yolox\.calib: ENOENT/ });
});
