#!/usr/bin/env bash
# The release workflow's test data, in the layout of the shared fixtures folder, for runners that do
# not have it: YOLOX-Nano (Apache-2.0, the model of the shared fixtures, checked by its SHA-256) and
# 33 COCO 2017 images (CC BY 4.0): one to detect on, 32 to calibrate on.
#
#   scripts/release-fixtures.sh DIR      then: INT8_DETECT_FIXTURES=DIR node scripts/fresh-install-test.js
set -euo pipefail
dir="${1:?usage: release-fixtures.sh DIR}"
mkdir -p "$dir/models" "$dir/coco/eval/images" "$dir/coco/calib"

fetch() { curl --fail --silent --show-error --location --retry 3 --output "$2" "$1"; }

fetch https://github.com/Megvii-BaseDetection/YOLOX/releases/download/0.1.1rc0/yolox_nano.onnx "$dir/models/yolox_nano.onnx"
echo "695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14  $dir/models/yolox_nano.onnx" | shasum -a 256 --check -

fetch http://images.cocodataset.org/train2017/000000000790.jpg "$dir/coco/eval/images/000000000790.jpg"
for id in 285 632 724 776 785 872 885 1000 1268 1296 1353 1425 1490 1503 1532 1584 \
          1675 1761 1818 1993 2006 2149 2153 2157 2261 2299 2431 2473 2532 2587 2592 2685; do
  name="$(printf '%012d.jpg' "$id")"
  fetch "http://images.cocodataset.org/val2017/$name" "$dir/coco/calib/$name"
done
echo "release-fixtures: $(find "$dir" -type f | wc -l | tr -d ' ') files in $dir"
