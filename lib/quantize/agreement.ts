/**
 * The label-free accuracy check: score a candidate model's detections (INT8) against a reference
 * model's detections (FP32) taken as pseudo ground truth, with the COCO metric. Users rarely have
 * labels for their cameras; agreement tells them whether INT8 still sees what FP32 sees.
 */
import type { Detection } from '../detect/types';
import type { CocoDataset, CocoDetection, CocoMetrics } from '../eval/coco';
import { evaluate, toCocoDetections } from '../eval/coco';
import { invalidArgument } from '../util/errors';

export interface AgreementOptions {
  /**
   * Reference detections scoring at least this become pseudo ground truth (default 0.25, the
   * usual deployment threshold): confident FP32 objects are what INT8 must keep finding.
   */
  pseudoLabelThreshold?: number;
  /**
   * Reference detections scoring at least this but below the pseudo-label threshold (default
   * 0.1) are objects FP32 itself is unsure of: they become ignore regions (COCO's iscrowd), where
   * a candidate detection of the same class that matches no confident box counts neither as a hit
   * nor as a false alarm. As in COCO, a detection falls in a region when at least half of its own
   * area (AP50) lies inside it, whatever its size: two small boxes inside one large unsure box are
   * both ignored. That is the leniency bought, on the boxes FP32 itself doubts. Without them, INT8
   * lifting an object FP32 scored 0.24 to 0.26 is a confident false alarm, and on a few dozen
   * frames a handful of such threshold crossings, as likely right as wrong, decide the check
   * (docs/quantization.md, "How far to trust the check"). 0 turns the regions off.
   */
  uncertainThreshold?: number;
}

/** The defaults of AgreementOptions: FP32's confident objects, and those it is unsure of. */
export const PSEUDO_LABEL_THRESHOLD = 0.25;
export const UNCERTAIN_THRESHOLD = 0.1;

export interface FrameSize {
  width: number;
  height: number;
}

/**
 * COCO metrics of `candidate` scored against `reference` (per frame, same order). Call it with
 * candidate detections made as for COCO evaluation (low threshold, multi-label), so the ranking,
 * not the threshold, decides.
 */
export function agreementMetrics(
  reference: readonly (readonly Detection[])[],
  candidate: readonly (readonly Detection[])[],
  frames: readonly FrameSize[],
  numClasses: number,
  options: AgreementOptions = {},
): CocoMetrics {
  if (reference.length !== candidate.length || reference.length !== frames.length) {
    throw invalidArgument(`${frames.length} frames of detections for both models`, 'agreementMetrics(reference, candidate)', candidate);
  }
  const threshold = options.pseudoLabelThreshold ?? PSEUDO_LABEL_THRESHOLD;
  const uncertain = options.uncertainThreshold ?? UNCERTAIN_THRESHOLD;
  const categories = Array.from({ length: numClasses }, (_, c) => ({ id: c + 1, name: String(c) }));
  const categoryIds = categories.map((c) => c.id);
  const dataset: CocoDataset = { images: [], annotations: [], categories };
  const detections: CocoDetection[] = [];
  let annotationId = 1;
  frames.forEach((frame, i) => {
    const imageId = i + 1;
    dataset.images.push({ id: imageId, file_name: String(imageId), width: frame.width, height: frame.height });
    for (const d of reference[i]) {
      const confident = d.score >= threshold;
      if (!confident && !(uncertain > 0 && d.score >= uncertain)) continue;
      const w = d.box.x2 - d.box.x1;
      const h = d.box.y2 - d.box.y1;
      dataset.annotations.push({
        id: annotationId++,
        image_id: imageId,
        category_id: d.classId + 1,
        bbox: [d.box.x1, d.box.y1, w, h],
        area: w * h,
        iscrowd: confident ? 0 : 1,
      });
    }
    detections.push(...toCocoDetections(imageId, candidate[i], categoryIds));
  });
  return evaluate(detections, dataset);
}
