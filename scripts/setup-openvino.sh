#!/usr/bin/env bash
# Installs the pinned OpenVINO wheel of scripts/requirements-openvino.txt into the project-local
# .venv/ (created when absent), so `npm run build:native` finds OpenVINO's CMake config through
# `openvino.get_cmake_path()` and builds int8_detect_openvino.node.
# Idempotent: a stamp holds the hash of the requirements it installed; a second run returns at once.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/lib/stamped-venv.sh"
venv="$root/.venv"
requirements="$root/scripts/requirements-openvino.txt"
stamp="$venv/.openvino.sha256"

want="$(stamp_hash "$requirements")"
if venv_is_current "$venv" "$stamp" "$want"; then
  echo "setup-openvino: OpenVINO $("$venv/bin/python" -c 'import openvino; print(openvino.__version__)') in $venv is up to date"
  exit 0
fi

begin_venv_install setup-openvino "$venv" "$stamp"
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$requirements"
version="$("$venv/bin/python" -c 'import openvino; print(openvino.__version__)')"
cmake_dir="$("$venv/bin/python" "$root/scripts/openvino-cmake-path.py")"
if [[ ! -f "$cmake_dir/OpenVINOConfig.cmake" ]]; then
  echo "setup-openvino: the openvino wheel has no OpenVINOConfig.cmake in $cmake_dir" >&2
  exit 1
fi
finish_venv_install "$stamp" "$want"
echo "setup-openvino: OpenVINO $version installed into $venv (CMake config: $cmake_dir); now run 'npm run build:native'"
