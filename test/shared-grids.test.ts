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

test('inputs read only by the Concat join its grid, however narrow or wide', (t) => {
  const plans = [activation('out', -0.3, 12), activation('a', -0.3, 12), activation('b', -0.1, 0.5), activation('c', -1, 30)];
  const shared = byName(shareGrids(plans, [['out', 'a', 'b', 'c']], MODE, { readBeyondJoins: () => false }));
  for (const name of ['a', 'b', 'c']) {
    t.is(shared.get(name)!.scale, plans[0].scale, name);
    t.is(shared.get(name)!.zeroPoint, plans[0].zeroPoint, name);
    t.deepEqual(shared.get(name)!.range, plans[0].range, `${name}: the Concat output's own range, as QLinearConcat would requantize it`);
    t.is(shared.get(name)!.alignedWith, 'out');
    t.is(shared.get(name)!.error, 0, 'a tensor only joins read keeps its own error estimate');
  }
  t.is(shared.get('out')!.alignedWith, undefined, 'the Concat output leads the group');
  t.deepEqual(shared.get('out')!.range, plans[0].range, 'and keeps its grid');
  t.deepEqual(shared.get('out')!.sharedGrid, ['out', 'a', 'b', 'c'], 'every member is listed, the leader included');
});

test('an input read beyond the Concat joins only if the grid covers it within the widening bound', (t) => {
  const plans = [activation('out', 0, 10), activation('near', 0, 10 / (DEFAULT_MAX_WIDENING * 0.9)), activation('far', 0, 10 / (DEFAULT_MAX_WIDENING * 1.5)), activation('wide', 0, 14)];
  const shared = byName(shareGrids(plans, [['out', 'near', 'far', 'wide']], MODE));
  t.is(shared.get('near')!.scale, plans[0].scale, 'widened by less than the bound: joins');
  t.is(shared.get('far')!.scale, plans[2].scale, 'widened by more: keeps its own grid');
  t.is(shared.get('far')!.alignedWith, undefined);
  t.is(shared.get('far')!.sharedGrid, undefined);
  t.is(shared.get('wide')!.scale, plans[3].scale, 'a range the grid would clip for its other readers: keeps its own');
  // With a larger bound the far input joins; the wide one never does.
  const loose = byName(shareGrids(plans, [['out', 'near', 'far', 'wide']], MODE, { maxWidening: 4 }));
  t.is(loose.get('far')!.scale, plans[0].scale);
  t.is(loose.get('wide')!.scale, plans[3].scale);
});

test('tensors already on one grid move together; groups chain through a tensor two Concats read', (t) => {
  // 'split_out' shares 'split_in's grid (a Split); joining the Concat moves both.
  const plans = [activation('out', -1, 8), activation('split_in', -1, 6), activation('split_out', -1, 6, 'split_in'), activation('other', -1, 8), activation('out2', -1, 5)];
  const errors: string[] = [];
  const shared = byName(
    shareGrids(plans, [['out', 'split_out', 'other'], ['out2', 'other', 'other']], MODE, {
      error: (name, range) => {
        errors.push(name);
        return range.max - range.min;
      },
    }),
  );
  for (const name of ['split_in', 'split_out', 'other']) t.is(shared.get(name)!.scale, plans[0].scale, name);
  t.is(shared.get('split_out')!.error, 9, 'a guarded tensor\'s error is re-estimated on its new range');
  // The second Concat's output would move onto the first one's grid, which does not cover it: the groups stay apart.
  t.is(shared.get('out2')!.scale, plans[4].scale);
  t.deepEqual(errors.sort(), ['other', 'out', 'split_in', 'split_out']);
  // Names the plan does not quantize are skipped; a group led by one is ignored.
  const skipped = shareGrids(plans, [['missing', 'other'], ['out', 'missing']], MODE);
  t.deepEqual(skipped, plans);
});
