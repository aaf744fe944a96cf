/**
 * The shapes an engine is built for: fixed dimensions come from the ONNX model, dynamic ones from
 * the caller (min, opt, max of an optimization profile). A dynamic batch dimension alone defaults
 * to 1; dynamic image sizes must be given, since no default fits every use.
 */
import { Int8DetectError, invalidArgument } from '../../util/errors';
import type { ModelTensorInfo } from '../../onnx/model-info';
import type { InputShapeRange } from './plan-cache';

/** One fixed shape, or the range of an optimization profile. */
export type InputShapeSpec = readonly number[] | { min: readonly number[]; opt: readonly number[]; max: readonly number[] };

function dimsText(dims: readonly (number | string)[]): string {
  return `[${dims.join(', ')}]`;
}

function isDynamic(dim: number | string): boolean {
  return typeof dim === 'string' || dim <= 0;
}

function checkShape(name: string, label: string, shape: unknown, model: readonly (number | string)[]): number[] {
  if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 1)) {
    throw invalidArgument('an array of positive integers', `inputShapes.${name}${label}`, shape);
  }
  if (shape.length !== model.length) {
    throw new Int8DetectError('ERR_ARGUMENT', `Input '${name}' has ${model.length} dimensions ${dimsText(model)}, but inputShapes.${name}${label} has ${shape.length}: ${dimsText(shape)}`);
  }
  model.forEach((dim, i) => {
    if (!isDynamic(dim) && shape[i] !== dim) {
      throw new Int8DetectError('ERR_ARGUMENT', `Input '${name}' has the fixed dimension ${dim} at position ${i} of ${dimsText(model)}, but inputShapes.${name}${label} gives ${shape[i]}`);
    }
  });
  return shape.slice() as number[];
}

export function resolveInputShapes(inputs: readonly ModelTensorInfo[], overrides: Readonly<Record<string, InputShapeSpec>> = {}): InputShapeRange[] {
  if (typeof overrides !== 'object' || overrides === null) throw invalidArgument('an object of shapes by input name', 'inputShapes', overrides);
  for (const name of Object.keys(overrides)) {
    if (!inputs.some((input) => input.name === name)) {
      throw new Int8DetectError('ERR_ARGUMENT', `inputShapes names '${name}', but the model's inputs are ${inputs.map((i) => `'${i.name}'`).join(', ')}`);
    }
  }
  return inputs.map((input) => {
    const model = input.dims;
    const given = overrides[input.name];
    if (model === null) {
      if (given === undefined) throw new Int8DetectError('ERR_ARGUMENT', `Input '${input.name}' has no shape in the model: give inputShapes.${input.name}`);
    }
    const reference = model ?? (Array.isArray(given) ? given : (given as { opt: readonly number[] }).opt).map(() => 'dynamic');
    if (given !== undefined) {
      if (Array.isArray(given)) {
        const shape = checkShape(input.name, '', given, reference);
        return { name: input.name, min: shape, opt: shape.slice(), max: shape.slice() };
      }
      const range = given as { min: unknown; opt: unknown; max: unknown };
      if (typeof range !== 'object' || range === null) throw invalidArgument('a shape array or { min, opt, max }', `inputShapes.${input.name}`, given);
      const min = checkShape(input.name, '.min', range.min, reference);
      const opt = checkShape(input.name, '.opt', range.opt, reference);
      const max = checkShape(input.name, '.max', range.max, reference);
      if (min.some((d, i) => d > opt[i] || opt[i] > max[i])) {
        throw new Int8DetectError('ERR_ARGUMENT', `inputShapes.${input.name} must have min <= opt <= max in every dimension, but has min ${dimsText(min)}, opt ${dimsText(opt)}, max ${dimsText(max)}`);
      }
      return { name: input.name, min, opt, max };
    }
    const dims = model as (number | string)[];
    const dynamic = dims.map(isDynamic);
    if (dynamic.slice(1).some(Boolean)) {
      throw new Int8DetectError(
        'ERR_ARGUMENT',
        `Input '${input.name}' has dynamic dimensions ${dimsText(dims)}: give inputShapes.${input.name} as a shape such as ` +
          `${dimsText(dims.map((d) => (isDynamic(d) ? 640 : d)).map((d, i) => (i === 0 ? 1 : d)))} or as { min, opt, max }`,
      );
    }
    const shape = dims.map((d) => (isDynamic(d) ? 1 : (d as number)));
    return { name: input.name, min: shape, opt: shape.slice(), max: shape.slice() };
  });
}

export function isDynamicRange(shape: InputShapeRange): boolean {
  return shape.min.some((d, i) => d !== shape.max[i]);
}

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}
