/**
 * The COCO detection metric (mAP@[.5:.95] and the other 11 numbers), equal to pycocotools'
 * COCOeval with iouType 'bbox' to the last bit: same loadRes rules, matching, accumulation and
 * numpy arithmetic. test/coco-eval.test.ts holds it to pycocotools' own output.
 */
import { Int8DetectError, invalidArgument } from '../util/errors';
import type { Detection } from '../detect/types';
import { CocoAccumulator } from './coco-accumulate';
import { assertCocoDataset, assertCocoDetection, type CocoDataset, type CocoDetection } from './coco-dataset';
import {
  AREA_RANGES,
  MAX_DETS,
  boxIous,
  evaluateImageCategory,
  sortByScoreStable,
  type EvalDetection,
  type EvalGroundTruth,
  type ImageCategoryResult,
} from './coco-match';

export {
  assertCocoDataset,
  categoryIdsByIndex,
  loadCocoDataset,
  type CocoAnnotation,
  type CocoCategory,
  type CocoDataset,
  type CocoDetection,
  type CocoImage,
} from './coco-dataset';

export interface CocoClassMetrics {
  categoryId: number;
  name: string;
  /** AP@[.5:.95], area all, maxDets 100; -1 when the category has no counted ground truth. */
  AP: number;
  /** AP at IoU 0.5; -1 likewise. */
  AP50: number;
  /** Ground-truth boxes of this category that count (not crowd) on the evaluated images. */
  numGroundTruth: number;
}

export interface CocoMetrics {
  /** AP@[.5:.95], area all, maxDets 100 (COCO's headline number, pycocotools stats[0]). */
  mAP: number;
  AP50: number;
  AP75: number;
  APsmall: number;
  APmedium: number;
  APlarge: number;
  AR1: number;
  AR10: number;
  AR100: number;
  ARsmall: number;
  ARmedium: number;
  ARlarge: number;
  /** The 12 numbers above in pycocotools' `stats` order. */
  stats: number[];
  perClass: CocoClassMetrics[];
  numImages: number;
  numDetections: number;
}

export interface CocoEvaluateOptions {
  /** Evaluate only these images (pycocotools' params.imgIds); default every image of the ground truth. */
  imageIds?: readonly number[];
}

const AREA_ALL = 0;
const AREA_SMALL = 1;
const AREA_MEDIUM = 2;
const AREA_LARGE = 3;
const MAX_DETS_1 = 0;
const MAX_DETS_10 = 1;
const MAX_DETS_100 = 2;

/** Score COCO-format detections against a COCO ground truth as pycocotools' COCOeval (bbox) does. */
export function evaluate(
  detections: readonly CocoDetection[],
  groundTruth: CocoDataset,
  options: CocoEvaluateOptions = {},
): CocoMetrics {
  if (!Array.isArray(detections)) throw invalidArgument('an array of COCO detections', 'detections', detections);
  assertCocoDataset(groundTruth, 'groundTruth');
  detections.forEach((d, i) => assertCocoDetection(d, `detections[${i}]`));

  const gtImageIds = new Set(groundTruth.images.map((image) => image.id));
  detections.forEach((d, i) => {
    if (!gtImageIds.has(d.image_id)) {
      // pycocotools' loadRes asserts the same ("Results do not correspond to current coco set").
      throw new Int8DetectError(
        'ERR_ARGUMENT',
        `detections[${i}] is on image ${d.image_id}, which is not in the ground truth`,
      );
    }
  });
  const imageIds = selectImageIds(options.imageIds, gtImageIds);
  const categoryIds = uniqueSorted(groundTruth.categories.map((c) => c.id));
  const imageIndex = new Map(imageIds.map((id, i) => [id, i]));
  const categoryIndex = new Map(categoryIds.map((id, k) => [id, k]));
  const I = imageIds.length;
  const K = categoryIds.length;

  // Grouped by (category, image) in input order, as COCOeval's _gts / _dts dictionaries.
  const gtsByCell: EvalGroundTruth[][] = Array.from({ length: K * I }, () => []);
  for (const ann of groundTruth.annotations) {
    const i = imageIndex.get(ann.image_id);
    const k = categoryIndex.get(ann.category_id);
    if (i === undefined || k === undefined) continue;
    gtsByCell[k * I + i].push({ id: ann.id, bbox: ann.bbox, area: ann.area, crowd: Boolean(ann.iscrowd) });
  }
  const dtsByCell: EvalDetection[][] = Array.from({ length: K * I }, () => []);
  detections.forEach((d, index) => {
    const i = imageIndex.get(d.image_id);
    const k = categoryIndex.get(d.category_id);
    if (i === undefined || k === undefined) return;
    // loadRes: ids are 1-based positions in the results, the area is the box's w * h.
    dtsByCell[k * I + i].push({ id: index + 1, bbox: d.bbox, area: d.bbox[2] * d.bbox[3], score: d.score });
  });

  const maxDet = MAX_DETS[MAX_DETS.length - 1];
  const accumulator = new CocoAccumulator(K);
  for (let k = 0; k < K; k++) {
    const results: ImageCategoryResult[] = [];
    for (let i = 0; i < I; i++) {
      const gts = gtsByCell[k * I + i];
      const dts = sortByScoreStable(dtsByCell[k * I + i]).slice(0, maxDet);
      if (gts.length === 0 && dts.length === 0) continue;
      results.push(evaluateImageCategory(gts, dts, boxIous(dts, gts)));
    }
    accumulator.addCategory(k, results);
  }

  const ap = (a: number, iou?: number): number => accumulator.summarize('precision', a, MAX_DETS_100, iou);
  const ar = (a: number, m: number): number => accumulator.summarize('recall', a, m);
  const stats = [
    ap(AREA_ALL),
    ap(AREA_ALL, 0.5),
    ap(AREA_ALL, 0.75),
    ap(AREA_SMALL),
    ap(AREA_MEDIUM),
    ap(AREA_LARGE),
    ar(AREA_ALL, MAX_DETS_1),
    ar(AREA_ALL, MAX_DETS_10),
    ar(AREA_ALL, MAX_DETS_100),
    ar(AREA_SMALL, MAX_DETS_100),
    ar(AREA_MEDIUM, MAX_DETS_100),
    ar(AREA_LARGE, MAX_DETS_100),
  ];
  const names = new Map(groundTruth.categories.map((c) => [c.id, c.name]));
  const perClass = categoryIds.map((categoryId, k) => ({
    categoryId,
    name: names.get(categoryId) ?? String(categoryId),
    AP: accumulator.summarize('precision', AREA_ALL, MAX_DETS_100, undefined, [k]),
    AP50: accumulator.summarize('precision', AREA_ALL, MAX_DETS_100, 0.5, [k]),
    numGroundTruth: accumulator.countedGroundTruth[k * AREA_RANGES.length + AREA_ALL],
  }));
  return {
    mAP: stats[0],
    AP50: stats[1],
    AP75: stats[2],
    APsmall: stats[3],
    APmedium: stats[4],
    APlarge: stats[5],
    AR1: stats[6],
    AR10: stats[7],
    AR100: stats[8],
    ARsmall: stats[9],
    ARmedium: stats[10],
    ARlarge: stats[11],
    stats,
    perClass,
    numImages: I,
    numDetections: detections.length,
  };
}

/**
 * Turn one image's detections (x1, y1, x2, y2 boxes with model class indexes) into COCO results
 * ([x, y, w, h] boxes with COCO category ids); `categoryIds[classId]` maps the index to the id
 * (see categoryIdsByIndex).
 */
export function toCocoDetections(imageId: number, detections: readonly Detection[], categoryIds: readonly number[]): CocoDetection[] {
  if (typeof imageId !== 'number' || !Number.isFinite(imageId)) throw invalidArgument('a finite number', 'imageId', imageId);
  if (!Array.isArray(detections)) throw invalidArgument('an array of detections', 'detections', detections);
  if (!Array.isArray(categoryIds)) throw invalidArgument('an array of category ids', 'categoryIds', categoryIds);
  return detections.map((d, i) => {
    const categoryId = categoryIds[d.classId];
    if (!Number.isInteger(d.classId) || categoryId === undefined) {
      throw invalidArgument(`a class index below ${categoryIds.length}`, `detections[${i}].classId`, d.classId);
    }
    const { x1, y1, x2, y2 } = d.box;
    return { image_id: imageId, category_id: categoryId, bbox: [x1, y1, x2 - x1, y2 - y1], score: d.score };
  });
}

function selectImageIds(requested: readonly number[] | undefined, gtImageIds: Set<number>): number[] {
  if (requested === undefined) return uniqueSorted([...gtImageIds]);
  if (!Array.isArray(requested)) throw invalidArgument('an array of image ids', 'options.imageIds', requested);
  requested.forEach((id, i) => {
    if (!gtImageIds.has(id)) throw invalidArgument('the id of an image in the ground truth', `options.imageIds[${i}]`, id);
  });
  return uniqueSorted(requested);
}

/** np.unique: sorted ascending, duplicates dropped. */
function uniqueSorted(values: readonly number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}
