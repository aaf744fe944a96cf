#!/usr/bin/env bash
# Builds the preprocessing kernels' standalone test with AddressSanitizer and
# UndefinedBehaviorSanitizer and runs it. Not part of the addon build; run by hand or in CI.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/build/asan-preprocess}"
mkdir -p "$out"
"${CXX:-g++}" -std=c++17 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined \
  -Wall -Wextra -Werror -I"$root/native" \
  "$root/native/core/preprocess.cc" "$root/native/test/preprocess_kernels_test.cc" -o "$out/preprocess_kernels_test"
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}" "$out/preprocess_kernels_test"
