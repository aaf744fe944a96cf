#!/usr/bin/env bash
# Builds int8_detect_openvino.node with AddressSanitizer (CMake option INT8_DETECT_ASAN, in its own
# build folder) and runs the OpenVINO inference paths through it: ONNX from bytes and from a path,
# IR conversion and loading, concurrent runs, perf counters, and the error paths. Node itself is
# not instrumented, so libasan is preloaded and leak detection is off (Node and OpenVINO's plugins
# keep process-lifetime allocations). TBB_ENABLE_SANITIZERS=1 stops TBB from dlopen-ing tbbbind with
# RTLD_DEEPBIND, which ASan refuses (it aborts the load). Not part of the test suite; run by hand or in CI.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/build/asan-openvino}"
cd "$root"
npx cmake-js compile --out "$out" --CDINT8_DETECT_ASAN=ON --CDINT8_DETECT_TENSORRT=OFF
libasan="$("${CXX:-g++}" -print-file-name=libasan.so)"
INT8_DETECT_OPENVINO_MODULE="$out/Release/int8_detect_openvino.node" \
  TBB_ENABLE_SANITIZERS=1 LD_PRELOAD="$libasan" ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}" \
  node "$root/scripts/asan-openvino-run.js"
