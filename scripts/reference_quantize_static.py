#!/usr/bin/env python3
"""Reference for the portable quantizer: ONNX Runtime's own quantize_static (Q/DQ, per-channel INT8
weights, UINT8 activations) on the same model and calibration images, with int8-detect's own
preprocessing for the model (asked from the built library, so both sides see the same tensors).
Evaluate and time the results the same way as ours:

  .venv/bin/python scripts/reference_quantize_static.py --model M.onnx --calib DIR --out-dir OUT
  node dist/lib/cli/main.js eval --model OUT/M.entropy.qdq.onnx --images ... --annotations ...
  node scripts/bench-int8.js --fp32 M.onnx --int8 OUT/M.entropy.qdq.onnx

Needs the reference venv (scripts/setup-python.sh) and the built library (npm install). Never a
runtime dependency of int8-detect.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np
import onnx
from onnx import version_converter
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
METHODS = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy, "percentile": CalibrationMethod.Percentile}


def engine_preprocessing(model):
    """The model's input name and preprocessing as int8-detect recognises them."""
    script = (
        "const { createEngine } = require('./dist/lib/engine');"
        f"createEngine({{ model: {json.dumps(model)} }}).then(async (e) => {{"
        "  console.log(JSON.stringify({ input: e.info.model.inputs[0].name, spec: e.info.preprocess }));"
        "  await e.dispose(); });"
    )
    out = subprocess.run(["node", "-e", script], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def letterbox(path, spec):
    """The same letterbox as int8-detect: keep aspect, bilinear (INTER_LINEAR), pad, normalise, NCHW."""
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"cannot decode {path}")
    h, w = image.shape[:2]
    scale = min(spec["width"] / w, spec["height"] / h)
    rw, rh = min(spec["width"], max(1, round(w * scale))), min(spec["height"], max(1, round(h * scale)))
    resized = cv2.resize(image, (rw, rh), interpolation=cv2.INTER_LINEAR)
    if spec["channelOrder"] == "rgb":
        resized = resized[:, :, ::-1]
    canvas = np.full((spec["height"], spec["width"], 3), spec["padValue"], dtype=np.float32)
    ox = oy = 0
    if spec["placement"] == "center":
        ox, oy = max(0, round((spec["width"] - rw) / 2 - 0.1)), max(0, round((spec["height"] - rh) / 2 - 0.1))
    canvas[oy : oy + rh, ox : ox + rw] = resized
    canvas = (canvas * spec["scale"] - np.array(spec["mean"], np.float32)) / np.array(spec["std"], np.float32)
    return canvas.transpose(2, 0, 1)[None].astype(np.float32)


class FolderReader(CalibrationDataReader):
    def __init__(self, files, input_name, spec):
        self.files, self.input_name, self.spec, self.index = files, input_name, spec, 0

    def get_next(self):
        if self.index >= len(self.files):
            return None
        self.index += 1
        return {self.input_name: letterbox(self.files[self.index - 1], self.spec)}

    def rewind(self):
        self.index = 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--calib", required=True, help="folder of calibration images")
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--methods", default="minmax,entropy,percentile")
    parser.add_argument("--limit", type=int, default=0, help="use at most N images (sorted by name)")
    args = parser.parse_args()

    meta = engine_preprocessing(os.path.abspath(args.model))
    files = sorted(os.path.join(args.calib, f) for f in os.listdir(args.calib) if f.lower().endswith((".jpg", ".jpeg", ".png")))
    if args.limit:
        files = files[: args.limit]
    if not files:
        sys.exit(f"no images in {args.calib}")
    os.makedirs(args.out_dir, exist_ok=True)
    base = os.path.splitext(os.path.basename(args.model))[0]
    with tempfile.TemporaryDirectory() as tmp:
        # Per-channel Q/DQ (the axis attribute) needs opset 13; quantize_static does not raise it
        # itself, and ONNX Runtime refuses the model it writes otherwise.
        source = args.model
        model = onnx.load(args.model)
        opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
        if opset < 13:
            source = os.path.join(tmp, "opset13.onnx")
            onnx.save(version_converter.convert_version(model, 13), source)
        prepared = os.path.join(tmp, "prepared.onnx")
        try:
            # ONNX shape inference and ONNX Runtime graph optimisation first, as its docs advise
            # (symbolic shape inference, which needs sympy, is for dynamic shapes only).
            quant_pre_process(source, prepared, skip_symbolic_shape=True)
        except Exception as err:  # noqa: BLE001 - fall back to the model as it is, and say so
            print(f"quant_pre_process failed ({err}); quantizing the model as it is", file=sys.stderr)
            prepared = source
        for name in args.methods.split(","):
            out = os.path.join(args.out_dir, f"{base}.{name}.qdq.onnx")
            started = time.time()
            quantize_static(
                prepared,
                out,
                FolderReader(files, meta["input"], meta["spec"]),
                quant_format=QuantFormat.QDQ,
                per_channel=True,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                calibrate_method=METHODS[name],
            )
            print(json.dumps({"method": name, "out": out, "images": len(files), "seconds": round(time.time() - started, 1)}), flush=True)


if __name__ == "__main__":
    main()
