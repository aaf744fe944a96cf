#!/usr/bin/env bash
# Compiles every TensorRT source of the project against the given headers, with the warnings of
# the real build (-Wall -Wextra -Werror) for our code; the TensorRT, CUDA and Node headers are
# -isystem, so warnings inside them (TensorRT 11's own deprecated inline code) do not count.
# No GPU, no TensorRT libraries: only headers. Exits 0 only if every file compiles.
#
#   scripts/check-tensorrt.sh --tensorrt-include DIR --cuda-include DIR [--cuda-include DIR ...]
#                             [--onnx-parser-include DIR] [--node-include DIR] [--cxx COMPILER]
#
# The public headers: NVIDIA/TensorRT include/ (branches release/8.6, release/10.3 for JetPack 6,
# release/10.13 for JetPack 7, release/10.16 for the last 10.x, main for 11.x), NvOnnxParser.h from
# onnx/onnx-tensorrt where the TensorRT branch lacks it, and CUDA's headers from the PyPI wheels
# nvidia-cuda-runtime-cu12 (nvidia/cuda_runtime/include) and nvidia-cuda-nvcc-cu12
# (nvidia/cuda_nvcc/include, for crt/host_defines.h). The files are those of the TensorRT module
# in native/sources.json, the one source list. .github/workflows/ci.yml runs it for each version.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

trt_include=""
cuda_includes=()
onnx_include=""
node_include=""
cxx="${CXX:-g++}"
while [ $# -gt 0 ]; do
  case "$1" in
    --tensorrt-include) trt_include="${2:-}"; shift 2 ;;
    --cuda-include) cuda_includes+=("${2:-}"); shift 2 ;;
    --onnx-parser-include) onnx_include="${2:-}"; shift 2 ;;
    --node-include) node_include="${2:-}"; shift 2 ;;
    --cxx) cxx="${2:-}"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "check-tensorrt: unknown argument '$1'" >&2; usage ;;
  esac
done

fail_setup() { echo "check-tensorrt: $1" >&2; exit 2; }
[ -n "$trt_include" ] || fail_setup "--tensorrt-include DIR is required"
[ ${#cuda_includes[@]} -gt 0 ] || fail_setup "--cuda-include DIR is required"
[ -f "$trt_include/NvInfer.h" ] || fail_setup "no NvInfer.h in $trt_include"
cuda_flags=()
found_runtime=""
for dir in "${cuda_includes[@]}"; do
  [ -d "$dir" ] || fail_setup "no folder $dir (--cuda-include)"
  cuda_flags+=(-isystem "$dir")
  if [ -f "$dir/cuda_runtime_api.h" ]; then found_runtime="$dir"; fi
done
[ -n "$found_runtime" ] || fail_setup "no cuda_runtime_api.h in ${cuda_includes[*]}"
if [ -z "$onnx_include" ]; then onnx_include="$trt_include"; fi
[ -f "$onnx_include/NvOnnxParser.h" ] || fail_setup "no NvOnnxParser.h in $onnx_include: pass --onnx-parser-include DIR (onnx/onnx-tensorrt)"

if [ -z "$node_include" ]; then
  node_prefix="$(dirname "$(dirname "$(command -v node)")")"
  for candidate in "$node_prefix/include/node" /usr/include/node /usr/local/include/node; do
    if [ -f "$candidate/node_api.h" ]; then node_include="$candidate"; break; fi
  done
fi
[ -n "$node_include" ] && [ -f "$node_include/node_api.h" ] || fail_setup "Node's headers (node_api.h) not found: pass --node-include DIR"
addon_api="$(node -p "require('node-addon-api').include_dir")"

# The preprocessor resolves TensorRT 11's indirect version macros (TRT_MAJOR_ENTERPRISE ...).
version="$(printf '#include <NvInferVersion.h>\nNV_TENSORRT_MAJOR.NV_TENSORRT_MINOR.NV_TENSORRT_PATCH\n' | "$cxx" -E -P -x c++ -isystem "$trt_include" - 2>/dev/null | tr -d ' ' | tail -1)"
echo "check-tensorrt: $cxx, TensorRT $version headers in $trt_include, CUDA headers in ${cuda_includes[*]}"

read -r -a sources <<< "$(node scripts/native-sources.js int8_detect_tensorrt)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
failed=0
for source in "${sources[@]}"; do
  if "$cxx" -std=c++17 -Wall -Wextra -Werror -fPIC -fvisibility=hidden -O1 -c "$source" -o "$out/$(basename "$source").o" \
    -Inative -I"$addon_api" \
    -isystem "$node_include" -isystem "$trt_include" -isystem "$onnx_include" "${cuda_flags[@]}" \
    -DNAPI_VERSION=8 -DNODE_ADDON_API_DISABLE_DEPRECATED -DNAPI_CPP_EXCEPTIONS; then
    echo "  ok      $source"
  else
    echo "  FAILED  $source"
    failed=$((failed + 1))
  fi
done
if [ "$failed" -ne 0 ]; then
  echo "check-tensorrt: $failed of ${#sources[@]} files failed to compile" >&2
  exit 1
fi
echo "check-tensorrt: all ${#sources[@]} files compile"
