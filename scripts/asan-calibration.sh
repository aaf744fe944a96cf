#!/usr/bin/env bash
# Builds the calibration maths' standalone test with AddressSanitizer and
# UndefinedBehaviorSanitizer and runs it. Not part of the addon build; run by hand or in CI.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/build/asan-calibration}"
mkdir -p "$out"
src="$root/native/core/calibration"
"${CXX:-g++}" -std=c++17 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined \
  -Wall -Wextra -Werror -I"$root/native" \
  "$src/histogram.cc" "$src/entropy.cc" "$src/ranges.cc" "$src/qparams.cc" "$src/weights.cc" \
  "$root/native/test/calibration_test.cc" -o "$out/calibration_test"
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}" "$out/calibration_test"
