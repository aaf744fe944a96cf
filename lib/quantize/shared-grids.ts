/**
 * Shared grids: a Concat whose inputs are on its output's scale and zero point is a copy.
 *
 * Why: ONNX Runtime runs DQ -> Concat -> Q as QLinearConcat, which requantizes each input through a
 * lookup table unless that input's scale and zero point equal the output's, in which case it copies.
 * In its NHWC INT8 layout a channel Concat interleaves short runs per pixel, and the lookup made
 * yolov8n's 13 Concats 1.3 ms of a 14.9 ms INT8 run (the FP32 Concats: 0.57 ms); with every input
 * on the output's grid they took 0.36 ms. NNCF unifies Concat scales for the same reason.
 *
 * The grid is the Concat output's own: its range was chosen on the concatenated values, and it is
 * what QLinearConcat requantizes every input to anyway. So a tensor that only Concats read costs
 * nothing by joining (it is now rounded once instead of twice, and clipped where the Concat would
 * have clipped it). One that a conv or an Add also reads would lose resolution or be clipped for
 * that reader: it joins only if the grid covers its own range and its step widens at most
 * `maxWidening`. One that would not is left on its own grid, and the Concat requantizes that input
 * alone. (A grid spanning the union of the members' ranges instead widened yolox_nano's Concat
 * outputs by 5-30 % for their conv readers; with the output's own grid the INT8 model's outputs
 * differ from FP32's as much as without shared grids: mean |error| 0.2479 and 0.2479 on 12 frames.)
 *
 * Grids are merged by their roots: tensors already sharing a grid (a Split's outputs and its
 * input, a MaxPool's output and input: ActivationSite.alignWith) move together.
 */
import { scaleAndZeroPoint, type ActivationMode } from './qparams';
import type { Range } from './statistics';

/** What shareGrids reads and rewrites of a planned activation (plan.ts's ActivationPlan). */
export interface GridMember {
  name: string;
  range: Range;
  scale: number;
  zeroPoint: number;
  error: number;
  /** The tensor whose grid this one shares. */
  alignedWith?: string;
  /** The tensors on one shared grid with this one, itself included (the grid of the first Concat output among them). */
  sharedGrid?: string[];
}

/** How much coarser a tensor's step may become by joining a shared grid (default of shareGrids). */
export const DEFAULT_MAX_WIDENING = 2;

/**
 * The activations with each group's tensors moved onto the grid of the group's first tensor where
 * that costs a reader beyond the joins nothing: `groups` lists tensor names, the first being the
 * one the others join (a Concat's output, then its inputs); names the plan does not quantize are
 * skipped. `error(name, range)` re-estimates the error of a tensor whose grid matters elsewhere.
 */
export function shareGrids<T extends GridMember>(
  activations: readonly T[],
  groups: readonly (readonly string[])[],
  mode: ActivationMode,
  options: {
    maxWidening?: number;
    /** Whether a tensor's step matters beyond the joins: something other than a Concat (or an op that keeps its grid) reads it. Default: yes. */
    readBeyondJoins?: (name: string) => boolean;
    error?: (name: string, range: Range) => number;
  } = {},
): T[] {
  const maxWidening = options.maxWidening ?? DEFAULT_MAX_WIDENING;
  const byName = new Map(activations.map((a) => [a.name, a]));
  // Union-find over grid roots (a tensor aligned with another moves with it). A set keeps the grid
  // of the root it started from; the sets merged into it move onto that grid.
  const parent = new Map<string, string>();
  const find = (root: string): string => {
    let r = root;
    while (parent.get(r) !== r) r = parent.get(r)!;
    return r;
  };
  const members = new Map<string, string[]>(); // set representative -> grid roots in it
  const rootOf = (name: string) => byName.get(name)?.alignedWith ?? name;
  const setOf = (name: string) => {
    const root = rootOf(name);
    if (!parent.has(root)) {
      parent.set(root, root);
      members.set(root, [root]);
    }
    return find(root);
  };
  const own = (root: string) => byName.get(root)!;
  const step = (range: Range) => scaleAndZeroPoint(range, mode).scale;
  const covers = (grid: Range, range: Range) => {
    const tolerance = step(grid);
    return grid.min <= range.min + tolerance && grid.max >= range.max - tolerance;
  };
  // Grid roots whose step matters: one of the tensors on that grid has a reader beyond the joins.
  const guarded = new Set(activations.filter((a) => options.readBeyondJoins?.(a.name) ?? true).map((a) => rootOf(a.name)));
  for (const group of groups) {
    const present = group.filter((name) => byName.has(name));
    if (present.length < 2 || present[0] !== group[0]) continue;
    for (const name of present.slice(1)) {
      const a = setOf(present[0]);
      const b = setOf(name);
      if (a === b) continue;
      const grid = own(a).range;
      const costly = members.get(b)!.some((root) => guarded.has(root) && (!covers(grid, own(root).range) || step(grid) > maxWidening * own(root).scale));
      if (costly) continue;
      parent.set(b, a);
      members.set(a, [...members.get(a)!, ...members.get(b)!]);
      members.delete(b);
    }
  }
  const memberSet = (name: string) => {
    const root = rootOf(name);
    return parent.has(root) && members.get(find(root))!.length > 1 ? find(root) : undefined;
  };
  const tensorsOf = new Map<string, string[]>();
  for (const a of activations) {
    const set = memberSet(a.name);
    if (set !== undefined) tensorsOf.set(set, [...(tensorsOf.get(set) ?? []), a.name]);
  }
  return activations.map((activation) => {
    const set = memberSet(activation.name);
    if (set === undefined) return activation;
    const { range, scale, zeroPoint } = own(set);
    // A tensor only joins read keeps its error: its cost is the Concat output's, counted there.
    const error = guarded.has(rootOf(activation.name)) ? options.error?.(activation.name, range) ?? activation.error : activation.error;
    return { ...activation, range, scale, zeroPoint, error, sharedGrid: tensorsOf.get(set)!, ...(set !== activation.name ? { alignedWith: set } : {}) };
  });
}
