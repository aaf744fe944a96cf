#!/usr/bin/env python3
"""NNCF's post-training quantization of the same model on the same calibration images, the reference
for int8-detect's OpenVINO quantizer (lib/openvino/quantize.ts), evaluated and timed side by side.

    bash scripts/setup-nncf.sh      # NNCF + OpenVINO into .venv (pinned)
    .venv/bin/python scripts/reference_nncf.py --model yolox_nano.onnx --calib coco/calib \\
        --eval-images coco/eval/images --annotations coco/eval/instances.json --out-dir /tmp/nncf \\
        [--ours ours.int8.xml] [--ac-max-iterations 3 --ac-subset 40] [--rounds 5]

Writes, under --out-dir: nncf_performance.xml, nncf_mixed.xml (nncf.quantize, subset 300 or all
images) and nncf_accuracy_control.xml (nncf.quantize_with_accuracy_control, validated on the
labelled eval set: NNCF's accuracy control needs labels; its time is capped by
--ac-max-iterations and --ac-subset, reported). Preprocessing is int8-detect's own (for YOLOX raw
0-255 BGR, letterbox top-left, pad 114; see the fixtures README), through the same letterbox as
scripts/reference_quantize_static.py. Every IR, and the float model, is then scored with
`int8-detect eval --backend openvino` (mAP@[.5:.95]; the float model with f32 forced and at
OpenVINO's default precision) and timed with benchmark-style interleaved rounds of raw inference
in one process (medians), the CPU's INT8 flags printed beside every figure.
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_quantize_static import engine_preprocessing, letterbox  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cpu_int8_flags():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                wanted = ["avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8", "amx_bf16"]
                return " ".join(f for f in wanted if f in flags) or "none of avx2/vnni/amx"
    return "unknown"


def images(folder):
    return sorted(p for p in glob.glob(os.path.join(folder, "*")) if p.lower().endswith((".jpg", ".jpeg", ".png")))


def eval_with_int8_detect(model, args, precision=None):
    """mAP@[.5:.95] of `model` with int8-detect's own openvino backend (the evaluation our IRs get)."""
    cmd = ["node", os.path.join(ROOT, "dist/lib/cli/main.js"), "eval", "--backend", "openvino", "--model", model,
           "--images", args.eval_images, "--annotations", args.annotations, "--json"]
    if precision:
        cmd += ["--inference-precision", precision]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return {"mAP": result["mAP"], "AP50": result["AP50"]}


def yolox_detections(output, scale, image_id, category_ids, score_threshold=0.001, iou=0.65, max_det=100):
    """YOLOX's grid decode and class-wise NMS, as int8-detect does it (for the accuracy-control validation)."""
    import cv2
    pred = output[0]
    grids, strides = [], []
    for stride in (8, 16, 32):
        n = 416 // stride
        yv, xv = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        grids.append(np.stack([xv, yv], -1).reshape(-1, 2))
        strides.append(np.full((n * n, 1), stride))
    grids, strides = np.concatenate(grids), np.concatenate(strides)
    xy = (pred[:, :2] + grids) * strides
    wh = np.exp(pred[:, 2:4]) * strides
    boxes = np.concatenate([xy - wh / 2, wh], 1) / scale
    scores = pred[:, 4:5] * pred[:, 5:]
    rows, cols = np.nonzero(scores > score_threshold)
    if len(rows) == 0:
        return []
    s = scores[rows, cols]
    keep = cv2.dnn.NMSBoxesBatched(boxes[rows].tolist(), s.tolist(), cols.tolist(), score_threshold, iou)
    keep = sorted(np.array(keep).reshape(-1), key=lambda i: -s[i])[:max_det]
    return [{"image_id": image_id, "category_id": category_ids[cols[i]], "bbox": [float(v) for v in boxes[rows[i]]], "score": float(s[i])} for i in keep]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--calib", required=True)
    parser.add_argument("--eval-images", required=True)
    parser.add_argument("--annotations", required=True)
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--ours", action="append", default=[], help="our INT8 IR(s), evaluated and timed beside NNCF's")
    parser.add_argument("--subset", type=int, default=300, help="NNCF subset_size (default 300, NNCF's default)")
    parser.add_argument("--ac-max-iterations", type=int, default=3, help="accuracy control: layers returned to float at most")
    parser.add_argument("--ac-subset", type=int, default=0, help="accuracy control: eval images used for validation (0: all)")
    parser.add_argument("--ac-max-drop", type=float, default=0.01)
    parser.add_argument("--skip", default="", help="comma list of steps to skip: performance,mixed,ac,eval,bench")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=20)
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    import nncf
    import openvino as ov
    from pycocotools.coco import COCO
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from coco_reference import score

    flags = cpu_int8_flags()
    print(f"cpu INT8 flags: {flags}; openvino {ov.__version__}; nncf {nncf.__version__}", flush=True)
    os.makedirs(args.out_dir, exist_ok=True)
    pre = engine_preprocessing(args.model)
    spec, input_name = pre["spec"], pre["input"]
    calib_files = images(args.calib)
    calib = nncf.Dataset(calib_files, lambda p: {input_name: letterbox(p, spec)})
    core = ov.Core()
    model = core.read_model(args.model)
    irs = {}
    for preset in ("performance", "mixed"):
        path = os.path.join(args.out_dir, f"nncf_{preset}.xml")
        if preset in skip:
            # A skipped step reuses the IR an earlier run left in --out-dir.
            if os.path.exists(path):
                irs[f"nncf {preset}"] = path
            continue
        started = time.time()
        q = nncf.quantize(model, calib, preset=getattr(nncf.QuantizationPreset, preset.upper()), subset_size=min(args.subset, len(calib_files)))
        path = os.path.join(args.out_dir, f"nncf_{preset}.xml")
        ov.save_model(q, path, compress_to_fp16=False)
        irs[f"nncf {preset}"] = path
        print(f"nncf.quantize preset={preset}: {time.time() - started:.0f} s -> {path}", flush=True)

    if "ac" not in skip:
        gt = COCO(args.annotations)
        category_ids = sorted(gt.getCatIds())
        ids = sorted(gt.getImgIds())
        if args.ac_subset:
            ids = ids[: args.ac_subset]
        records = [(i, os.path.join(args.eval_images, gt.loadImgs(i)[0]["file_name"])) for i in ids]

        def validation_item(record):
            return record

        def validate(compiled, data):
            detections = []
            for image_id, path in data:
                import cv2
                h, w = cv2.imread(path).shape[:2]
                scale = min(spec["width"] / w, spec["height"] / h)
                out = compiled({input_name: letterbox(path, spec)})[compiled.output(0)]
                detections += yolox_detections(out, scale, image_id, category_ids)
            return score(args.annotations, detections, image_ids=[r[0] for r in data])["mAP"]

        started = time.time()
        q = nncf.quantize_with_accuracy_control(
            model, calib, nncf.Dataset(records, validation_item), validate,
            max_drop=args.ac_max_drop, drop_type=nncf.DropType.ABSOLUTE, subset_size=min(args.subset, len(calib_files)),
            advanced_accuracy_restorer_parameters=nncf.AdvancedAccuracyRestorerParameters(max_num_iterations=args.ac_max_iterations))
        path = os.path.join(args.out_dir, "nncf_accuracy_control.xml")
        ov.save_model(q, path, compress_to_fp16=False)
        irs["nncf accuracy control"] = path
        print(f"nncf.quantize_with_accuracy_control (max_num_iterations={args.ac_max_iterations}, {len(records)} validation images, "
              f"labels of the eval set): {time.time() - started:.0f} s -> {path}", flush=True)
    for i, ours in enumerate(args.ours):
        irs[f"int8-detect {os.path.basename(ours)}"] = ours

    rows = [("FP32 (f32 forced)", args.model, "fp32"), ("OpenVINO default precision", args.model, None)] + [(k, v, None) for k, v in irs.items()]
    if "eval" not in skip:
        for name, path, precision in rows:
            print(f"{name:32s} {json.dumps(eval_with_int8_detect(path, args, precision))}  [cpu: {flags}]", flush=True)

    if "bench" not in skip:
        bench(core, rows, spec, input_name, calib_files[0], args, flags)


def bench(core, rows, spec, input_name, image, args, flags):
    """Raw inference latency, one infer request each, interleaved rounds; medians of the round medians."""
    import openvino as ov
    x = letterbox(image, spec)
    compiled = {}
    for name, path, precision in rows:
        config = {"PERFORMANCE_HINT": "LATENCY", "PERF_COUNT": "YES"}
        if precision == "fp32":
            config["INFERENCE_PRECISION_HINT"] = "f32"
        compiled[name] = core.compile_model(path, "CPU", config).create_infer_request()
    per_round = {name: [] for name, _, _ in rows}
    for _ in range(args.rounds):
        for name, _, _ in rows:
            req = compiled[name]
            for _ in range(3):
                req.infer({input_name: x})
            times = []
            for _ in range(args.iterations):
                t = time.perf_counter()
                req.infer({input_name: x})
                times.append((time.perf_counter() - t) * 1000)
            per_round[name].append(statistics.median(times))
    print(f"latency, medians of {args.rounds} interleaved rounds x {args.iterations} runs  [cpu: {flags}]")
    for name, _, _ in rows:
        req = compiled[name]
        by_type = {}
        for p in req.profiling_info:
            if p.status != p.Status.EXECUTED:
                continue
            key = f"{p.node_type}:{p.exec_type}"
            by_type[key] = by_type.get(key, 0.0) + p.real_time.total_seconds() * 1000
        top = ", ".join(f"{k} {v:.1f}" for k, v in sorted(by_type.items(), key=lambda kv: -kv[1])[:5])
        print(f"  {name:32s} {statistics.median(per_round[name]):7.2f} ms   profile (ms): {top}")


if __name__ == "__main__":
    main()
