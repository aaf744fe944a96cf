#!/usr/bin/env python3
"""Score COCO-format detections with pycocotools, the reference our TypeScript COCO metric must equal.

    .venv/bin/python scripts/coco_reference.py --annotations instances.json --detections dets.json [--json]

Detections are COCO results (a list of {image_id, category_id, bbox: [x, y, w, h], score}) or
the compact form the committed test data uses ({"rows": [[image_id, category_id, x, y, w, h,
score], ...]}). With --json, stdout holds only the JSON result; pycocotools' progress lines go
to stderr either way.
"""
import argparse
import contextlib
import json
import sys

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

STAT_NAMES = ['mAP', 'AP50', 'AP75', 'APsmall', 'APmedium', 'APlarge',
              'AR1', 'AR10', 'AR100', 'ARsmall', 'ARmedium', 'ARlarge']


def load_detections(path):
    with open(path) as f:
        data = json.load(f)
    return detections_from_json(data)


def detections_from_json(data):
    """A plain COCO results list, or the compact {rows} form, as a list of result dicts."""
    if isinstance(data, list):
        return data
    return [{'image_id': r[0], 'category_id': r[1], 'bbox': list(r[2:6]), 'score': r[6]} for r in data['rows']]


def load_results(coco_gt, detections):
    """cocoGt.loadRes, which cannot take an empty list; then an empty results set built as loadRes would."""
    if detections:
        return coco_gt.loadRes(detections)
    coco_dt = COCO()
    coco_dt.dataset = {'images': list(coco_gt.dataset['images']),
                       'categories': list(coco_gt.dataset['categories']),
                       'annotations': []}
    coco_dt.createIndex()
    return coco_dt


def mean_or_minus_one(s):
    """COCOeval.summarize's mean: over the entries > -1, or -1 when there are none."""
    s = s[s > -1]
    return float(np.mean(s)) if len(s) else -1.0


def score(annotations_path, detections, image_ids=None):
    """Run COCOeval (bbox) and return the 12 stats and the per-category AP and AP50."""
    with contextlib.redirect_stdout(sys.stderr):
        coco_gt = COCO(annotations_path)
        # loadRes adds fields (id, area, iscrowd) to the dicts it gets: give it copies.
        coco_dt = load_results(coco_gt, [dict(d) for d in detections])
        evaluator = COCOeval(coco_gt, coco_dt, iouType='bbox')
        if image_ids is not None:
            evaluator.params.imgIds = list(image_ids)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    stats = [float(v) for v in evaluator.stats]
    params = evaluator.params
    precision = evaluator.eval['precision']  # [T, R, K, A, M]
    t50 = np.where(params.iouThrs == 0.5)[0]
    per_class = {}
    per_class_ap50 = {}
    for k, cat_id in enumerate(params.catIds):
        per_class[str(cat_id)] = mean_or_minus_one(precision[:, :, k, 0, -1])
        per_class_ap50[str(cat_id)] = mean_or_minus_one(precision[t50, :, k, 0, -1])
    result = {'stats': stats}
    result.update(zip(STAT_NAMES, stats))
    result['perClass'] = per_class
    result['perClassAP50'] = per_class_ap50
    # The thresholds as numpy computed them, so a port can check its own bit for bit.
    result['iouThrs'] = [float(v) for v in params.iouThrs]
    result['recThrs'] = [float(v) for v in params.recThrs]
    result['numImages'] = len(params.imgIds)
    result['numDetections'] = len(detections)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--annotations', required=True, help='COCO ground truth (instances JSON)')
    parser.add_argument('--detections', required=True, help='COCO results JSON')
    parser.add_argument('--image-ids', help='comma-separated image ids to evaluate (default: all)')
    parser.add_argument('--json', action='store_true', help='print only the JSON result')
    args = parser.parse_args()
    image_ids = [int(v) for v in args.image_ids.split(',')] if args.image_ids else None
    result = score(args.annotations, load_detections(args.detections), image_ids)
    if args.json:
        print(json.dumps(result))
        return
    for name, value in zip(STAT_NAMES, result['stats']):
        print(f'{name:>9} {value:.6f}')
    print('category        AP      AP50')
    for cat_id, ap in result['perClass'].items():
        print(f'{cat_id:>8} {ap:9.6f} {result["perClassAP50"][cat_id]:9.6f}')


if __name__ == '__main__':
    main()
