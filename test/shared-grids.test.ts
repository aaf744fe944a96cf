/**
 * Shared grids (lib/quantize/shared-grids.ts): a Concat's inputs join its output's grid, freely
 * where only Concats read them, within a widening bound where something else does.
 */
import test from 'ava';
import type { ActivationPlan } from '../lib/quantize/plan';
import { scaleAndZeroPoint } from '../lib/quantize/qparams';
import { DEFAULT_MAX_WIDENING, shareGrids } from '../lib/quantize/shared-grids';

const MODE = 'uint8-asymmetric' as const;

function activation(name: string, min: number, max: number, alignedWith?: string): ActivationPlan {
  const range = { min, max };
  return { name, kind: 'activation', producer: '', consumers: [], reason: '', method: 'minmax', range, observed: range, error: 0, ...scaleAndZeroPoint(range, MODE), ...(alignedWith ? { alignedWith } : {}) };
}

const byName = (plans: ActivationPlan[]) => new Map(plans.map((p) => [p.name, p]));

test('inputs read only by the Concat join its grid, however narrow', (t) => {
  const plans = [activation('out', -0.3, 12), activation('a', -0.3, 12), activation('b', -0.1, 0.5)];
  const shared = byName(shareGrids(plans, [['out', 'a', 'b']], MODE, { readBeyondJoins: () => false }));
  for (const name of ['a', 'b']) {
    t.is(shared.get(name)!.scale, shared.get('out')!.scale, name);
    t.is(shared.get(name)!.zeroPoint, shared.get('out')!.zeroPoint, name);
    t.is(shared.get(name)!.alignedWith, 'out');
  }
  t.deepEqual(shared.get('b')!.range, { min: -0.3, max: 12 }, 'the union of the members\' ranges');
  t.is(shared.get('out')!.alignedWith, undefined, 'the Concat output leads the group');
  t.deepEqual(shared.get('out')!.sharedGrid, ['out', 'a', 'b'], 'every member is listed, the leader included');
});

test('an input read beyond the Concat joins only within the widening bound', (t) => {
  const plans = [activation('out', 0, 10), activation('near', 0, 10 / (DEFAULT_MAX_WIDENING * 0.9)), activation('far', 0, 10 / (DEFAULT_MAX_WIDENING * 1.5))];
  const shared = byName(shareGrids(plans, [['out', 'near', 'far']], MODE));
  t.is(shared.get('near')!.scale, shared.get('out')!.scale, 'widened by less than the bound: joins');
  t.is(shared.get('far')!.scale, plans[2].scale, 'widened by more: keeps its own grid');
  t.is(shared.get('far')!.alignedWith, undefined);
  t.is(shared.get('far')!.sharedGrid, undefined);
  // The bound guards the output too: a wide input would coarsen the Concat's own readers.
  const wide = byName(shareGrids([activation('out', 0, 1), activation('wide', 0, 5)], [['out', 'wide']], MODE));
  t.is(wide.get('out')!.scale, scaleAndZeroPoint({ min: 0, max: 1 }, MODE).scale);
  // With a larger bound the same input joins.
  const loose = byName(shareGrids(plans, [['out', 'near', 'far']], MODE, { maxWidening: 4 }));
  t.is(loose.get('far')!.scale, loose.get('out')!.scale);
});

test('tensors already on one grid move together, and the error is re-estimated on the new range', (t) => {
  // 'split_out' shares 'split_in's grid (a Split); joining the Concat moves both.
  const plans = [activation('out', -1, 8), activation('split_in', -1, 6), activation('split_out', -1, 6, 'split_in'), activation('other', -1, 8)];
  const errors: string[] = [];
  const shared = byName(
    shareGrids(plans, [['out', 'split_out', 'other']], MODE, {
      error: (name, range) => {
        errors.push(name);
        return range.max - range.min;
      },
    }),
  );
  for (const name of ['split_in', 'split_out', 'other']) t.is(shared.get(name)!.scale, shared.get('out')!.scale, name);
  t.is(shared.get('split_out')!.error, 9);
  t.deepEqual(errors.sort(), ['other', 'out', 'split_in', 'split_out']);
  // Names the plan does not quantize are skipped; a group led by one is ignored.
  const skipped = shareGrids(plans, [['missing', 'other'], ['out', 'missing']], MODE);
  t.deepEqual(skipped, plans);
});
