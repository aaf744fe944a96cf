/**
 * COCO ground truth and result types, and the loader that checks a file's structure before any
 * evaluation reads it (a missing field otherwise surfaces as NaN metrics far from its cause).
 */
import { promises as fs } from 'node:fs';
import { Int8DetectError, invalidArgument } from '../util/errors';

export interface CocoImage {
  id: number;
  file_name: string;
  width: number;
  height: number;
}

export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  /** [x, y, width, height] in pixels. */
  bbox: [number, number, number, number];
  /** The object's (segmentation) area: what the small/medium/large ranges are judged by. */
  area: number;
  iscrowd: number | boolean;
  /**
   * Accepted for completeness, but without effect, exactly as in pycocotools: its COCOeval reads
   * `ignore` and then overwrites it with `iscrowd`.
   */
  ignore?: number | boolean;
}

export interface CocoCategory {
  id: number;
  name: string;
}

export interface CocoDataset {
  images: CocoImage[];
  annotations: CocoAnnotation[];
  categories: CocoCategory[];
}

/** One detection in COCO's results format. */
export interface CocoDetection {
  image_id: number;
  category_id: number;
  /** [x, y, width, height] in pixels. */
  bbox: [number, number, number, number];
  score: number;
}

/** Read and check a COCO annotations file (`instances_*.json`). */
export async function loadCocoDataset(path: string): Promise<CocoDataset> {
  if (typeof path !== 'string' || path === '') throw invalidArgument('a file path', 'path', path);
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Int8DetectError('ERR_ARGUMENT', `Cannot read the COCO annotations file ${path}: ${reason}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Int8DetectError('ERR_ARGUMENT', `The COCO annotations file ${path} is not valid JSON: ${reason}`, { cause: err });
  }
  assertCocoDataset(parsed, path);
  return {
    images: parsed.images.map((i) => ({ id: i.id, file_name: i.file_name, width: i.width, height: i.height })),
    annotations: parsed.annotations.map((a) => {
      const annotation: CocoAnnotation = {
        id: a.id,
        image_id: a.image_id,
        category_id: a.category_id,
        bbox: [a.bbox[0], a.bbox[1], a.bbox[2], a.bbox[3]],
        area: a.area,
        iscrowd: a.iscrowd,
      };
      if (a.ignore !== undefined) annotation.ignore = a.ignore;
      return annotation;
    }),
    categories: parsed.categories.map((c) => ({ id: c.id, name: c.name })),
  };
}

/**
 * Throw ERR_ARGUMENT naming `source` and the first bad field unless `value` has the structure of
 * a COCO dataset.
 */
export function assertCocoDataset(value: unknown, source: string): asserts value is CocoDataset {
  const where = (field: string): string => `${field} in ${source}`;
  if (!isObject(value)) throw invalidArgument('a COCO dataset object', where('the top level'), value);
  for (const key of ['images', 'annotations', 'categories'] as const) {
    if (!Array.isArray(value[key])) throw invalidArgument('an array', where(key), value[key]);
  }
  const images = value.images as unknown[];
  images.forEach((image, i) => {
    const name = `images[${i}]`;
    if (!isObject(image)) throw invalidArgument('an object', where(name), image);
    requireNumber(image, 'id', name, where);
    if (typeof image.file_name !== 'string') throw invalidArgument('a string', where(`${name}.file_name`), image.file_name);
    requireNumber(image, 'width', name, where);
    requireNumber(image, 'height', name, where);
  });
  const annotations = value.annotations as unknown[];
  // pycocotools looks annotations up by id, so a repeated id would silently stand for the last one.
  const annotationIds = new Map<unknown, number>();
  annotations.forEach((annotation, i) => {
    const name = `annotations[${i}]`;
    if (!isObject(annotation)) throw invalidArgument('an object', where(name), annotation);
    for (const key of ['id', 'image_id', 'category_id', 'area']) requireNumber(annotation, key, name, where);
    requireBox(annotation.bbox, `${name}.bbox`, where);
    requireFlag(annotation, 'iscrowd', name, where, true);
    requireFlag(annotation, 'ignore', name, where, false);
    const first = annotationIds.get(annotation.id);
    if (first !== undefined) {
      throw invalidArgument(`an id not used before (annotations[${first}] has it)`, where(`${name}.id`), annotation.id);
    }
    annotationIds.set(annotation.id, i);
  });
  const categories = value.categories as unknown[];
  categories.forEach((category, i) => {
    const name = `categories[${i}]`;
    if (!isObject(category)) throw invalidArgument('an object', where(name), category);
    requireNumber(category, 'id', name, where);
    if (typeof category.name !== 'string') throw invalidArgument('a string', where(`${name}.name`), category.name);
  });
}

/** Check one detection in COCO's results format; `name` says where it came from. */
export function assertCocoDetection(value: unknown, name: string): asserts value is CocoDetection {
  const where = (field: string): string => field;
  if (!isObject(value)) throw invalidArgument('a detection object', name, value);
  for (const key of ['image_id', 'category_id', 'score']) requireNumber(value, key, name, where);
  requireBox(value.bbox, `${name}.bbox`, where);
}

/** The COCO category id of each model class index: the order of `categories` (the usual 80-class mapping). */
export function categoryIdsByIndex(dataset: CocoDataset): number[] {
  if (!isObject(dataset) || !Array.isArray(dataset.categories)) {
    throw invalidArgument('a COCO dataset with a categories array', 'dataset', dataset);
  }
  return dataset.categories.map((category) => category.id);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireNumber(owner: Record<string, unknown>, key: string, name: string, where: (f: string) => string): void {
  const value = owner[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidArgument('a finite number', where(`${name}.${key}`), value);
}

function requireBox(value: unknown, name: string, where: (f: string) => string): void {
  if (!Array.isArray(value) || value.length !== 4 || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw invalidArgument('[x, y, width, height] of four finite numbers', where(name), value);
  }
}

function requireFlag(owner: Record<string, unknown>, key: string, name: string, where: (f: string) => string, required: boolean): void {
  const value = owner[key];
  if (value === undefined && !required) return;
  if (value !== 0 && value !== 1 && value !== true && value !== false) {
    throw invalidArgument('0, 1, true or false', where(`${name}.${key}`), value);
  }
}
