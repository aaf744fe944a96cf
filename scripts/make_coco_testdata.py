#!/usr/bin/env python3
"""Make the committed COCO test data in test/data/coco/ (run once; the output is deterministic).

    bash scripts/setup-python.sh && .venv/bin/python scripts/make_coco_testdata.py

For every set it writes <set>.detections.json (compact rows [image_id, category_id, x, y, w, h,
score]) and <set>.expected.json (pycocotools' 12 stats and per-category AP and AP50), which
test/coco-eval.test.ts compares our TypeScript COCO metric against. The sets:
  - yolox_nano: real detections of the fixture model yolox_nano.onnx on the fixture eval images;
  - synthetic stress sets derived from the fixture ground truth with a seeded RNG;
  - edge cases on the hand-written test/data/coco/tiny-gt.json.
The fixture ground truth is read in place (INT8_DETECT_FIXTURES, default ../shared/fixtures).
"""
import json
import os
import sys

import cv2
import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from coco_reference import score  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.abspath(os.environ.get('INT8_DETECT_FIXTURES') or os.path.join(ROOT, '..', 'shared', 'fixtures'))
GT_PATH = os.path.join(FIXTURES, 'coco', 'eval', 'instances.json')
IMAGES_DIR = os.path.join(FIXTURES, 'coco', 'eval', 'images')
MODEL_PATH = os.path.join(FIXTURES, 'models', 'yolox_nano.onnx')
OUT_DIR = os.path.join(ROOT, 'test', 'data', 'coco')
TINY_GT_PATH = os.path.join(OUT_DIR, 'tiny-gt.json')
# How expected files name their ground truth, resolved by the test.
FIXTURE_GT_REF = 'fixtures:coco/eval/instances.json'
TINY_GT_REF = 'tiny-gt.json'

# yolox_nano.onnx facts from the fixtures README.
YOLOX_SIZE = 416
YOLOX_STRIDES = (8, 16, 32)
SCORE_THRESHOLD = 0.001
NMS_IOU = 0.65
MAX_PER_IMAGE = 100


def rounded_row(image_id, category_id, x, y, w, h, s):
    """One compact detection row: boxes to 2 decimals, scores to 5 significant digits (small files)."""
    return [int(image_id), int(category_id), round(float(x), 2), round(float(y), 2),
            round(float(w), 2), round(float(h), 2), float(f'{float(s):.5g}')]


# ---------------------------------------------------------------------------------------------
# Real detections: yolox_nano.onnx, preprocessed and decoded as the fixtures README states.

def yolox_input(image):
    """BGR uint8 image -> letterboxed float32 NCHW tensor (top-left, pad 114, no normalisation) and the scale."""
    h, w = image.shape[:2]
    r = min(YOLOX_SIZE / h, YOLOX_SIZE / w)
    # YOLOX's own preproc truncates the resized size: int(w * r).
    resized = cv2.resize(image, (int(w * r), int(h * r)), interpolation=cv2.INTER_LINEAR)
    padded = np.full((YOLOX_SIZE, YOLOX_SIZE, 3), 114, dtype=np.uint8)
    padded[:resized.shape[0], :resized.shape[1]] = resized
    return padded.transpose(2, 0, 1)[None].astype(np.float32), r


def yolox_grid():
    cells, strides = [], []
    for stride in YOLOX_STRIDES:
        n = YOLOX_SIZE // stride
        gy, gx = np.meshgrid(np.arange(n), np.arange(n), indexing='ij')
        cells.append(np.stack([gx.ravel(), gy.ravel()], axis=1))
        strides.append(np.full(n * n, stride))
    return np.concatenate(cells).astype(np.float32), np.concatenate(strides).astype(np.float32)


def nms(boxes, scores, iou_threshold):
    """Greedy NMS, best score first; a box goes when its IoU with a kept one exceeds the threshold."""
    order = np.argsort(-scores, kind='mergesort')
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        iw = np.clip(np.minimum(boxes[i, 2], boxes[rest, 2]) - np.maximum(boxes[i, 0], boxes[rest, 0]), 0, None)
        ih = np.clip(np.minimum(boxes[i, 3], boxes[rest, 3]) - np.maximum(boxes[i, 1], boxes[rest, 1]), 0, None)
        inter = iw * ih
        iou = inter / np.maximum(areas[i] + areas[rest] - inter, 1e-12)
        order = rest[iou <= iou_threshold]
    return np.array(keep, dtype=np.int64)


def yolox_detections(gt):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(MODEL_PATH, options, providers=['CPUExecutionProvider'])
    grid, strides = yolox_grid()
    category_ids = [c['id'] for c in gt['categories']]  # class index -> COCO id, by `categories` order
    rows = []
    for image_info in sorted(gt['images'], key=lambda i: i['id']):
        image = cv2.imread(os.path.join(IMAGES_DIR, image_info['file_name']), cv2.IMREAD_COLOR)
        h, w = image.shape[:2]
        tensor, r = yolox_input(image)
        out = session.run(None, {'images': tensor})[0][0].astype(np.float64)
        cx = (out[:, 0] + grid[:, 0]) * strides
        cy = (out[:, 1] + grid[:, 1]) * strides
        bw = np.exp(out[:, 2]) * strides
        bh = np.exp(out[:, 3]) * strides
        # Back to source pixels, clipped to the image as the library's Detection is.
        boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1) / r
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, w)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, h)
        class_scores = out[:, 4:5] * out[:, 5:]
        found = []  # (score, class, box)
        for c in range(class_scores.shape[1]):
            candidates = np.nonzero(class_scores[:, c] >= SCORE_THRESHOLD)[0]
            if candidates.size == 0:
                continue
            kept = candidates[nms(boxes[candidates], class_scores[candidates, c], NMS_IOU)]
            found.extend((class_scores[i, c], c, boxes[i]) for i in kept)
        found.sort(key=lambda f: -f[0])  # stable: equal scores keep class order
        for s, c, (x1, y1, x2, y2) in found[:MAX_PER_IMAGE]:
            rows.append(rounded_row(image_info['id'], category_ids[c], x1, y1, x2 - x1, y2 - y1, s))
    return rows


# ---------------------------------------------------------------------------------------------
# Synthetic stress sets derived from ground truth.

def jittered(rng, bbox, sigma):
    x, y, w, h = bbox
    return (x + rng.normal(0, sigma) * w, y + rng.normal(0, sigma) * h,
            w * np.exp(rng.normal(0, sigma)), h * np.exp(rng.normal(0, sigma)))


def random_box(rng, image, min_size=4):
    w = rng.uniform(min_size, image['width'] * 0.6)
    h = rng.uniform(min_size, image['height'] * 0.6)
    return rng.uniform(0, image['width'] - w), rng.uniform(0, image['height'] - h), w, h


def by_image(gt):
    anns = {}
    for a in gt['annotations']:
        anns.setdefault(a['image_id'], []).append(a)
    return anns


def set_jitter(gt, rng):
    """Each non-crowd box found with probability 0.9 at varying accuracy, plus random false positives."""
    cat_ids = [c['id'] for c in gt['categories']]
    rows = []
    for a in gt['annotations']:
        if not a['iscrowd'] and rng.random() < 0.9:
            rows.append(rounded_row(a['image_id'], a['category_id'], *jittered(rng, a['bbox'], rng.uniform(0.02, 0.25)),
                                    rng.uniform(0.05, 1)))
    for image in gt['images']:
        for _ in range(rng.integers(0, 9)):
            rows.append(rounded_row(image['id'], rng.choice(cat_ids), *random_box(rng, image), rng.uniform(0, 0.6)))
    rng.shuffle(rows)
    return rows


def set_duplicates_ties(gt, rng):
    """One to four near-copies of each box, some exact duplicates, scores on a coarse grid (many ties)."""
    rows = []
    for a in gt['annotations']:
        for _ in range(rng.integers(1, 5)):
            box = a['bbox'] if rng.random() < 0.25 else jittered(rng, a['bbox'], 0.04)
            rows.append(rounded_row(a['image_id'], a['category_id'], *box, rng.integers(1, 10) / 10))
    rng.shuffle(rows)
    return rows


def set_crowd(gt, rng):
    """Only images with a crowd region: many boxes inside each crowd region, the crowd box itself, and the real boxes.
    Every other image gets no detections at all."""
    anns = by_image(gt)
    rows = []
    for image_id, image_anns in sorted(anns.items()):
        if not any(a['iscrowd'] for a in image_anns):
            continue
        for a in image_anns:
            x, y, w, h = a['bbox']
            if a['iscrowd']:
                rows.append(rounded_row(image_id, a['category_id'], x, y, w, h, 0.5))
                for _ in range(rng.integers(10, 31)):
                    bw, bh = rng.uniform(0.05, 0.5) * w, rng.uniform(0.05, 0.5) * h
                    rows.append(rounded_row(image_id, a['category_id'], x + rng.uniform(0, w - bw), y + rng.uniform(0, h - bh),
                                            bw, bh, rng.uniform(0.2, 1)))
            elif rng.random() < 0.8:
                rows.append(rounded_row(image_id, a['category_id'], *jittered(rng, a['bbox'], 0.05), rng.uniform(0.1, 1)))
    return rows


def set_wrong_classes(gt, rng):
    """Accurate boxes under a wrong category scoring high, and about half of the right ones scoring lower."""
    cat_ids = [c['id'] for c in gt['categories']]
    rows = []
    for a in gt['annotations']:
        wrong = rng.choice([c for c in cat_ids if c != a['category_id']])
        rows.append(rounded_row(a['image_id'], wrong, *jittered(rng, a['bbox'], 0.03), rng.uniform(0.5, 1)))
        if rng.random() < 0.5:
            rows.append(rounded_row(a['image_id'], a['category_id'], *jittered(rng, a['bbox'], 0.03), rng.uniform(0, 0.5)))
    rng.shuffle(rows)
    return rows


def set_area_ranges(gt, rng):
    """Tiny, exact-boundary (32x32, 96x96), huge, zero-sized and out-of-frame boxes around half of the real ones."""
    images = {i['id']: i for i in gt['images']}
    rows = []
    for a in gt['annotations']:
        if rng.random() < 0.5:
            continue
        x, y, w, h = a['bbox']
        cx, cy = x + w / 2, y + h / 2
        image = images[a['image_id']]
        cat = a['category_id']
        rows.append(rounded_row(a['image_id'], cat, *jittered(rng, a['bbox'], 0.06), rng.uniform(0.3, 1)))
        for side in (32, 96):
            rows.append(rounded_row(a['image_id'], cat, cx - side / 2, cy - side / 2, side, side, rng.uniform(0, 1)))
            rows.append(rounded_row(a['image_id'], cat, cx - side / 2, cy - side / 2, side, side + 0.01, rng.uniform(0, 1)))
        tw, th = rng.uniform(0.5, 8, size=2)
        rows.append(rounded_row(a['image_id'], cat, cx - tw / 2, cy - th / 2, tw, th, rng.uniform(0, 1)))
        if rng.random() < 0.2:
            rows.append(rounded_row(a['image_id'], cat, 0, 0, image['width'], image['height'], rng.uniform(0, 1)))
        if rng.random() < 0.1:
            rows.append(rounded_row(a['image_id'], cat, x, y, 0, h, rng.uniform(0, 1)))
        if rng.random() < 0.1:
            rows.append(rounded_row(a['image_id'], cat, x - w / 2, y - h / 2, w, h, rng.uniform(0, 1)))
    rng.shuffle(rows)
    return rows


def set_many_per_image(gt, rng):
    """More than 100 detections of one category on a few images, so maxDets cuts (1, 10, 100) all bite."""
    anns = by_image(gt)
    images = {i['id']: i for i in gt['images']}
    busiest = sorted(anns, key=lambda i: (-len(anns[i]), i))[:4]
    rows = []
    for image_id in busiest:
        counts = {}
        for a in anns[image_id]:
            counts[a['category_id']] = counts.get(a['category_id'], 0) + 1
        cat = max(sorted(counts), key=lambda c: counts[c])
        targets = [a for a in anns[image_id] if a['category_id'] == cat]
        for _ in range(int(rng.integers(120, 181))):
            if rng.random() < 0.6:
                box = jittered(rng, targets[rng.integers(len(targets))]['bbox'], 0.15)
            else:
                box = random_box(rng, images[image_id])
            rows.append(rounded_row(image_id, cat, *box, rng.uniform(0, 1)))
        for a in anns[image_id]:
            if a['category_id'] != cat:
                rows.append(rounded_row(image_id, a['category_id'], *jittered(rng, a['bbox'], 0.05), rng.uniform(0, 1)))
    return rows


def set_tiny_edge_cases(tiny, rng):
    """On tiny-gt.json: crowd-only and absent categories, an image without ground truth, a ground truth with id 0,
    an 'ignore' flag (pycocotools disregards it), exact area boundaries, a category id not in the ground truth,
    score ties, and over 100 detections on one image and category."""
    rows = []
    for a in tiny['annotations']:
        for _ in range(rng.integers(1, 4)):
            rows.append(rounded_row(a['image_id'], a['category_id'], *jittered(rng, a['bbox'], 0.05),
                                    rng.integers(1, 6) / 5))
        rows.append(rounded_row(a['image_id'], a['category_id'], *a['bbox'], 0.6))
    rows += [
        rounded_row(3, 1, 10, 10, 30, 30, 0.9),  # an image with no ground truth
        rounded_row(1, 3, 10, 10, 100, 80, 0.95),  # a category without ground truth
        rounded_row(1, 99, 10, 10, 100, 80, 0.99),  # a category the ground truth does not have
        rounded_row(2, 5, 50, 50, 32, 32, 0.6),  # area exactly 32^2
        rounded_row(2, 5, 100, 100, 96, 96, 0.6),  # area exactly 96^2
        rounded_row(2, 5, 150, 10, 0, 60, 0.7),  # zero width
        rounded_row(4, 1, 402, 302, 100, 100, 0.6),  # between two overlapping ground truths
    ]
    for _ in range(110):
        rows.append(rounded_row(4, 1, *random_box(rng, {'width': 800, 'height': 600}), rng.integers(0, 20) / 20))
    rng.shuffle(rows)
    # IoU exactly 0.85 (6800 / 8000) with ground truth 1, first among the top scores: it matches at
    # np.linspace's threshold 0.85 but would not at 0.5 + 0.05 * 7 = 0.8500000000000001.
    return [rounded_row(1, 1, 10, 10, 100, 68, 1.0)] + rows


# ---------------------------------------------------------------------------------------------

def write_detections(name, rows):
    path = os.path.join(OUT_DIR, f'{name}.detections.json')
    with open(path, 'w') as f:
        f.write('{"format":"rows of [image_id, category_id, x, y, width, height, score]","rows":[\n')
        f.write(',\n'.join(json.dumps(r, separators=(',', ':')) for r in rows))
        f.write('\n]}\n')
    return path


def write_expected(name, detections_name, gt_ref, gt_path, rows, image_ids=None, description=''):
    detections = [{'image_id': r[0], 'category_id': r[1], 'bbox': r[2:6], 'score': r[6]} for r in rows]
    result = score(gt_path, detections, image_ids)
    expected = {'description': description, 'groundTruth': gt_ref, 'detections': f'{detections_name}.detections.json'}
    if image_ids is not None:
        expected['imageIds'] = sorted(image_ids)
    expected.update(result)
    with open(os.path.join(OUT_DIR, f'{name}.expected.json'), 'w') as f:
        json.dump(expected, f, indent=1)
        f.write('\n')
    print(f'{name:24s} {len(rows):6d} detections  mAP {result["mAP"]:.6f}  AP50 {result["AP50"]:.6f}')
    return result


def main():
    with open(GT_PATH) as f:
        gt = json.load(f)
    with open(TINY_GT_PATH) as f:
        tiny = json.load(f)
    os.makedirs(OUT_DIR, exist_ok=True)

    yolox = yolox_detections(gt)
    write_detections('yolox_nano', yolox)
    write_expected('yolox_nano', 'yolox_nano', FIXTURE_GT_REF, GT_PATH, yolox,
                   description='yolox_nano.onnx on coco/eval: score >= 0.001, class-aware NMS 0.65, top 100')

    synthetic = [
        ('jitter', set_jitter, 'non-crowd boxes found at varying accuracy plus random false positives'),
        ('duplicates-ties', set_duplicates_ties, 'near-copies and exact duplicates with tied scores'),
        ('crowd', set_crowd, 'boxes inside crowd regions; images without crowd get no detections'),
        ('wrong-classes', set_wrong_classes, 'accurate boxes under wrong categories'),
        ('area-ranges', set_area_ranges, 'tiny, boundary-area, huge, zero-sized and out-of-frame boxes'),
        ('many-per-image', set_many_per_image, 'over 100 detections of one category on an image'),
    ]
    for seed, (name, make, description) in enumerate(synthetic, start=1):
        rows = make(gt, np.random.default_rng(seed))
        write_detections(name, rows)
        write_expected(name, name, FIXTURE_GT_REF, GT_PATH, rows, description=description)
        if name == 'jitter':
            subset_rng = np.random.default_rng(100)
            ids = sorted(int(i) for i in subset_rng.choice([im['id'] for im in gt['images']], 40, replace=False))
            write_expected('jitter-subset', name, FIXTURE_GT_REF, GT_PATH, rows, image_ids=ids,
                           description='the jitter set scored on 40 of the images (params.imgIds)')

    tiny_rows = set_tiny_edge_cases(tiny, np.random.default_rng(7))
    write_detections('tiny-edge-cases', tiny_rows)
    write_expected('tiny-edge-cases', 'tiny-edge-cases', TINY_GT_REF, TINY_GT_PATH, tiny_rows,
                   description='edge cases on the hand-written tiny-gt.json')
    write_detections('tiny-empty', [])
    write_expected('tiny-empty', 'tiny-empty', TINY_GT_REF, TINY_GT_PATH, [],
                   description='no detections at all')


if __name__ == '__main__':
    main()
