#!/usr/bin/env bash
# Builds the calibration maths' standalone test with AddressSanitizer and
# UndefinedBehaviorSanitizer and runs it. Not part of the addon build; run by hand or in CI.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/build/asan-calibration}"
out="$(mkdir -p "$out" && cd "$out" && pwd)"
# The sources come from native/sources.json (programs.calibration_test), the one source list.
read -r -a sources <<< "$(cd "$root" && node scripts/native-sources.js --program calibration_test)"
(cd "$root" && "${CXX:-g++}" -std=c++17 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined \
  -Wall -Wextra -Werror -Inative "${sources[@]}" -o "$out/calibration_test")
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}" "$out/calibration_test"
