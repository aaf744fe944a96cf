#!/usr/bin/env bash
# Installs the pinned OpenVINO wheel of scripts/requirements-openvino.txt into the project-local
# .venv/ (created when absent), so `npm run build:native` finds OpenVINO's CMake config through
# `openvino.get_cmake_path()` and builds int8_detect_openvino.node.
# Idempotent: a stamp holds the hash of the requirements it installed; a second run returns at once.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
requirements="$root/scripts/requirements-openvino.txt"
stamp="$venv/.openvino.sha256"
python="${PYTHON:-python3}"

want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "setup-openvino: OpenVINO $("$venv/bin/python" -c 'import openvino; print(openvino.__version__)') in $venv is up to date"
  exit 0
fi

if [[ ! -x "$venv/bin/python" ]]; then
  echo "setup-openvino: creating $venv with $("$python" --version 2>&1)"
  "$python" -m venv "$venv"
fi

# A half-finished install must not look finished: drop the stamp before installing.
rm -f "$stamp"
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$requirements"
version="$("$venv/bin/python" -c 'import openvino; print(openvino.__version__)')"
cmake_dir="$("$venv/bin/python" "$root/scripts/openvino-cmake-path.py")"
if [[ ! -f "$cmake_dir/OpenVINOConfig.cmake" ]]; then
  echo "setup-openvino: the openvino wheel has no OpenVINOConfig.cmake in $cmake_dir" >&2
  exit 1
fi
echo "$want" > "$stamp"
echo "setup-openvino: OpenVINO $version installed into $venv (CMake config: $cmake_dir); now run 'npm run build:native'"
