#!/usr/bin/env bash
# Builds the core addon and the test-only module with AddressSanitizer (CMake option
# INT8_DETECT_ASAN, in their own build folder) and runs the native tests through them: the
# preprocessing, calibration and error-code tests, and the test-only module's hooks: the calibration
# bridge, the simulated build (feed and monitor), the per-slot threads, FP16 and dims. The tests load the addon from the package root, so they run from a scratch copy of the
# package (dist/, package.json, the ASan modules in build/Release) and never touch build/ here.
# Node itself is not instrumented: libasan is preloaded and leak detection is off (Node keeps
# process-lifetime allocations). Not part of the test suite; run by hand or in CI (needs `npm run build:ts`).
#   scripts/asan-core.sh [BUILD_DIR] [-- TEST_FILES...]   (default tests below, relative to dist/test)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/build/asan-core"
if [ $# -gt 0 ] && [ "$1" != "--" ]; then out="$1"; shift; fi
[ "${1:-}" = "--" ] && shift
tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
  tests=(preprocess.test.js calibration-statistics.test.js calibration-weights.test.js calibration-qparams.test.js
    tensorrt-calibration-bridge.test.js tensorrt-build-control.test.js native-error-codes.test.js native-exit.test.js malloc-arenas.test.js)
fi
cd "$root"
[ -d dist/test ] || { echo "asan-core: no dist/test: run 'npm run build:ts' first" >&2; exit 2; }
npx cmake-js compile --out "$out" --CDINT8_DETECT_ASAN=ON --CDINT8_DETECT_OPENVINO=OFF --CDINT8_DETECT_TENSORRT=OFF

package="$(mktemp -d "${TMPDIR:-/tmp}/int8-detect-asan-core-XXXXXX")"
trap 'rm -rf "$package"' EXIT
mkdir -p "$package/build/Release/test" "$package/scripts"
cp package.json "$package/"
cp -r dist "$package/dist"
cp scripts/run-tests.js "$package/scripts/"
ln -s "$root/node_modules" "$package/node_modules"
ln -s "$root/native" "$package/native"  # the sources, which native-error-codes.test reads as text
cp "$out/Release/int8_detect_core.node" "$package/build/Release/"
cp "$out/Release/test/int8_detect_core_test.node" "$package/build/Release/test/"

libasan="$("${CXX:-g++}" -print-file-name=libasan.so)"
files=()
for t in "${tests[@]}"; do files+=("dist/test/$t"); done
cd "$package"
INT8_DETECT_FIXTURES="${INT8_DETECT_FIXTURES:-$root/../shared/fixtures}" \
  LD_PRELOAD="$libasan" ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}" \
  node scripts/run-tests.js "${files[@]}"
