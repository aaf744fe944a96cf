/**
 * Shared grids: a Concat whose inputs are on its output's scale and zero point is a copy.
 *
 * Why: ONNX Runtime runs DQ -> Concat -> Q as QLinearConcat, which requantizes each input through a
 * lookup table unless that input's scale and zero point equal the output's, in which case it copies.
 * In its NHWC INT8 layout a channel Concat interleaves short runs per pixel, and the lookup made
 * yolov8n's 13 Concats 1.3 ms of a 14.9 ms INT8 run (the FP32 Concats: 0.57 ms); with every input
 * on the output's grid they took 0.36 ms. NNCF unifies Concat scales for the same reason.
 *
 * A tensor that only Concats read costs nothing by joining: the Concat puts it on the output's grid
 * anyway, and once instead of twice. One that something else reads too (the next conv) is
 * quantized on the group's range, the union of its members' ranges, and that reader sees coarser
 * steps; so such a tensor joins only while the union widens its step by at most `maxWidening`.
 * One that would is left on its own grid, and the Concat requantizes that input alone.
 *
 * Grids are merged by their roots: tensors already sharing a grid (a Split's outputs and its
 * input, a Resize's output and input: ActivationSite.alignWith) move together.
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
  /** The tensors on one shared grid with this one, itself included: its range is the union of theirs. */
  sharedGrid?: string[];
}

/** How much coarser a tensor's step may become by joining a shared grid (default of shareGrids). */
export const DEFAULT_MAX_WIDENING = 2;

const union = (a: Range, b: Range): Range => ({ min: Math.min(a.min, b.min), max: Math.max(a.max, b.max) });

/**
 * The activations with each group's tensors moved onto one grid where that widens no member's step
 * by more than `maxWidening`. `groups` lists tensor names, the first being the one the others join
 * (a Concat's output, then its inputs); names the plan does not quantize are skipped.
 * `error(name, range)` re-estimates a tensor's quantization error on its new range.
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
  // Union-find over grid roots (a tensor aligned with another moves with it).
  const parent = new Map<string, string>();
  const find = (root: string): string => {
    let r = root;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
    return r;
  };
  const members = new Map<string, string[]>(); // set representative -> grid roots in it
  const rangeOf = new Map<string, Range>(); // set representative -> union range
  const rootOf = (name: string) => byName.get(name)?.alignedWith ?? name;
  const setOf = (name: string) => {
    const root = rootOf(name);
    if (!parent.has(root)) {
      parent.set(root, root);
      members.set(root, [root]);
      rangeOf.set(root, byName.get(root)?.range ?? byName.get(name)!.range);
    }
    return find(root);
  };
  const step = (range: Range) => scaleAndZeroPoint(range, mode).scale;
  // Grid roots whose step matters: one of the tensors on that grid has a reader beyond the joins.
  const guarded = new Set(activations.filter((a) => options.readBeyondJoins?.(a.name) ?? true).map((a) => rootOf(a.name)));
  for (const group of groups) {
    const present = group.filter((name) => byName.has(name));
    if (present.length < 2 || present[0] !== group[0]) continue;
    for (const name of present.slice(1)) {
      const a = setOf(present[0]);
      const b = setOf(name);
      if (a === b) continue;
      const merged = union(rangeOf.get(a)!, rangeOf.get(b)!);
      const mergedStep = step(merged);
      const widensTooMuch = [...members.get(a)!, ...members.get(b)!].some((root) => guarded.has(root) && mergedStep > maxWidening * byName.get(root)!.scale);
      if (widensTooMuch) continue;
      parent.set(b, a);
      members.set(a, [...members.get(a)!, ...members.get(b)!]);
      members.delete(b);
      rangeOf.set(a, merged);
    }
  }
  const setOfRoot = (name: string) => {
    const root = rootOf(name);
    return parent.has(root) && members.get(find(root))!.length > 1 ? find(root) : undefined;
  };
  const tensorsOf = new Map<string, string[]>();
  for (const a of activations) {
    const set = setOfRoot(a.name);
    if (set !== undefined) tensorsOf.set(set, [...(tensorsOf.get(set) ?? []), a.name]);
  }
  return activations.map((activation) => {
    const set = setOfRoot(activation.name);
    if (set === undefined) return activation;
    const range = rangeOf.get(set)!;
    const { scale, zeroPoint } = scaleAndZeroPoint(range, mode);
    const error = options.error?.(activation.name, range) ?? activation.error;
    return { ...activation, range, scale, zeroPoint, error, sharedGrid: tensorsOf.get(set)!, ...(set !== activation.name ? { alignedWith: set } : {}) };
  });
}
