import test from 'ava';
import { fakeQuantize, MINIMUM_SCALE, roundHalfToEven, scaleAndZeroPoint } from '../lib/quantize/qparams';
import { seededRandom } from '../lib/util/random';

test('symmetric INT8: scale = max |x| / 127 as a float32, zero point 0', (t) => {
  t.deepEqual(scaleAndZeroPoint({ min: -1, max: 3 }, 'int8-symmetric'), { scale: Math.fround(3 / 127), zeroPoint: 0 });
  t.deepEqual(scaleAndZeroPoint({ min: -5, max: 2 }, 'int8-symmetric'), { scale: Math.fround(5 / 127), zeroPoint: 0 });
  t.deepEqual(scaleAndZeroPoint({ min: 0, max: 0 }, 'int8-symmetric'), { scale: MINIMUM_SCALE, zeroPoint: 0 });
  const { scale } = scaleAndZeroPoint({ min: -3, max: 3 }, 'int8-symmetric');
  t.is(fakeQuantize(3, scale, 0, 'int8-symmetric'), Math.fround(127 * scale));
  // Beyond the range QuantizeLinear saturates at the int8 ends: -128 below, 127 above.
  t.is(fakeQuantize(-100, scale, 0, 'int8-symmetric'), Math.fround(-128 * scale));
  t.is(fakeQuantize(100, scale, 0, 'int8-symmetric'), Math.fround(127 * scale));
});

test('asymmetric UINT8: the zero point is an integer in [0, 255] and 0.0 is exact, for any range', (t) => {
  t.deepEqual(scaleAndZeroPoint({ min: -1, max: 3 }, 'uint8-asymmetric'), { scale: Math.fround(4 / 255), zeroPoint: 64 });
  // Ranges on one side of 0 are widened to include it.
  t.deepEqual(scaleAndZeroPoint({ min: 2, max: 5 }, 'uint8-asymmetric'), { scale: Math.fround(5 / 255), zeroPoint: 0 });
  t.deepEqual(scaleAndZeroPoint({ min: -5, max: -2 }, 'uint8-asymmetric'), { scale: Math.fround(5 / 255), zeroPoint: 255 });
  t.deepEqual(scaleAndZeroPoint({ min: 0, max: 0 }, 'uint8-asymmetric'), { scale: MINIMUM_SCALE, zeroPoint: 0 });
  // SiLU's lower bound.
  const silu = scaleAndZeroPoint({ min: -0.2785, max: 6.1 }, 'uint8-asymmetric');
  t.is(silu.zeroPoint, Math.round(0.2785 / silu.scale));

  const random = seededRandom(11);
  for (let i = 0; i < 2000; i++) {
    const a = (random() - 0.7) * 10 ** (random() * 6 - 3);
    const b = a + random() * 10 ** (random() * 6 - 3);
    const { scale, zeroPoint } = scaleAndZeroPoint({ min: a, max: b }, 'uint8-asymmetric');
    t.true(scale > 0 && Math.fround(scale) === scale);
    t.true(Number.isInteger(zeroPoint) && zeroPoint >= 0 && zeroPoint <= 255, `zero point ${zeroPoint}`);
    if (fakeQuantize(0, scale, zeroPoint, 'uint8-asymmetric') !== 0) t.fail(`0 not exact for [${a}, ${b}]`);
    // The range's ends are represented to within one step.
    const lo = fakeQuantize(Math.min(a, 0), scale, zeroPoint, 'uint8-asymmetric');
    const hi = fakeQuantize(Math.max(b, 0), scale, zeroPoint, 'uint8-asymmetric');
    if (Math.abs(lo - Math.min(a, 0)) > scale || Math.abs(hi - Math.max(b, 0)) > scale) t.fail(`[${a}, ${b}] -> [${lo}, ${hi}]`);
  }
});

test('rounding is half to even, as ONNX QuantizeLinear', (t) => {
  t.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, 2.5001].map(roundHalfToEven), [0, 2, 2, 0, -2, -2, 2, 3]);
  // Scale 0.25 divides exactly, so these land on half-way points: 0.625 / 0.25 = 2.5 -> 2.
  t.is(fakeQuantize(0.625, 0.25, 0, 'int8-symmetric'), 0.5);
  t.is(fakeQuantize(0.875, 0.25, 0, 'int8-symmetric'), 1);
  // The zero point is added after rounding: 2.5 -> 2, + 3 = 5, back to (5 - 3) * 0.25.
  t.is(fakeQuantize(0.625, 0.25, 3, 'uint8-asymmetric'), 0.5);
  t.is(fakeQuantize(-100, 0.25, 3, 'uint8-asymmetric'), -0.75);
});

test('bad ranges, modes and parameters are refused', (t) => {
  t.throws(() => scaleAndZeroPoint({ min: 1, max: 0 }, 'int8-symmetric'), { code: 'ERR_ARGUMENT', message: /range\.max/ });
  t.throws(() => scaleAndZeroPoint({ min: NaN, max: 0 }, 'int8-symmetric'), { code: 'ERR_ARGUMENT', message: /range\.min/ });
  t.throws(() => scaleAndZeroPoint({ min: 0, max: 1 }, 'int4' as 'int8-symmetric'), { code: 'ERR_ARGUMENT', message: /mode/ });
  t.throws(() => fakeQuantize(1, 0, 0, 'int8-symmetric'), { code: 'ERR_ARGUMENT', message: /scale/ });
  t.throws(() => fakeQuantize(1, 1, 300, 'uint8-asymmetric'), { code: 'ERR_ARGUMENT', message: /zeroPoint/ });
  t.throws(() => fakeQuantize(1, 1, 0.5, 'int8-symmetric'), { code: 'ERR_ARGUMENT', message: /zeroPoint/ });
});
