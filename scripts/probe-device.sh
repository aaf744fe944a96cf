#!/usr/bin/env bash
# On a GPU machine: print probe() as JSON and `nvidia-smi -L`, and fail unless probe()
# found as many CUDA GPUs as nvidia-smi lists (and at least one).
# Needs node_modules/ and build/Release/int8_detect_core.node; compiles dist/ itself.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

fail() { echo "probe-device: $*" >&2; exit 1; }

[ -f build/Release/int8_detect_core.node ] || fail "build/Release/int8_detect_core.node is missing: run 'npm run build:native' first"
# tsc exits non-zero when any file has a type error but still emits; what matters is that probe.js exists.
npx tsc -p tsconfig.json >/dev/null 2>&1
[ -f dist/lib/probe.js ] || fail "dist/lib/probe.js was not produced by 'npx tsc -p tsconfig.json'"

echo "== probe()"
report=$(node -e "require('./dist/lib/probe').probe().then((r) => console.log(JSON.stringify(r, null, 2)))") ||
  fail "probe() failed"
echo "$report"

echo "== nvidia-smi -L"
smi=$(nvidia-smi -L 2>&1)
smi_rc=$?
echo "$smi"
[ "$smi_rc" -eq 0 ] || fail "nvidia-smi -L exited with $smi_rc"
[ -z "${CUDA_VISIBLE_DEVICES-}" ] || echo "note: CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES limits what CUDA sees, not nvidia-smi"

# Physical GPUs only ("GPU 0: NVIDIA H200 (UUID: ...)"); MIG instances are indented lines below them.
smi_count=$(grep -c '^GPU [0-9]' <<<"$smi")
probe_count=$(node -e "console.log(JSON.parse(process.argv[1]).cuda.devices.length)" "$report") || fail "could not read the report"
echo "== probe() found $probe_count CUDA GPU(s); nvidia-smi lists $smi_count"
[ "$smi_count" -gt 0 ] || fail "nvidia-smi lists no GPUs"
[ "$probe_count" -eq "$smi_count" ] || fail "probe() found $probe_count GPU(s) but nvidia-smi lists $smi_count"
echo "probe-device: OK"
