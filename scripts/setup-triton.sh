#!/usr/bin/env bash
# Installs Triton Inference Server from the pinned PyPI wheel (scripts/requirements-triton.txt) into
# the project-local .venv-triton/, with onnxruntime and openvino for int8-detect's Python-backend
# model, and lays out the backend folder tritonserver needs (--backend-directory):
#   .venv-triton/triton/backends/python/  libtriton_python.so, triton_python_backend_utils.py and
#   the triton_python_backend_stub built for this venv's Python (from the wheel's python_backend_stubs).
# scripts/triton-server.sh then starts tritonserver with the wheel's libraries on LD_LIBRARY_PATH
# and this venv's bin first on PATH. No CUDA is needed: tritonserver warns and carries on.
# Idempotent: a stamp holds the hash of the requirements and of this script and its helper; a second run returns at once.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/lib/stamped-venv.sh"
venv="${INT8_DETECT_TRITON_VENV:-$root/.venv-triton}"
requirements="$root/scripts/requirements-triton.txt"
stamp="$venv/.triton.sha256"

want="$(stamp_hash "$requirements" "${BASH_SOURCE[0]}" "$root/scripts/lib/stamped-venv.sh")"
if venv_is_current "$venv" "$stamp" "$want"; then
  echo "setup-triton: Triton in $venv is up to date"
  exit 0
fi

begin_venv_install setup-triton "$venv" "$stamp"
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$requirements"

site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
pyversion="$("$venv/bin/python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
server="$site/pytriton/tritonserver"
stub="$server/python_backend_stubs/$pyversion/triton_python_backend_stub"
if [[ ! -x "$server/bin/tritonserver" ]]; then
  echo "setup-triton: the nvidia-pytriton wheel has no tritonserver at $server/bin" >&2
  exit 1
fi
if [[ ! -f "$stub" ]]; then
  echo "setup-triton: the wheel has no Python backend stub for Python $pyversion ($stub); use a Python it has: $(ls "$server/python_backend_stubs" | tr '\n' ' ')" >&2
  exit 1
fi

backends="$venv/triton/backends"
rm -rf "$backends"
mkdir -p "$backends/python"
cp "$server/backends/python/libtriton_python.so" "$server/backends/python/triton_python_backend_utils.py" "$backends/python/"
cp "$stub" "$backends/python/triton_python_backend_stub"

# The stub embeds the system's libpython: say which package brings it when it is missing.
libs="$site/nvidia_pytriton.libs"
missing="$(LD_LIBRARY_PATH="$libs" ldd "$server/bin/tritonserver" "$backends/python/triton_python_backend_stub" 2>/dev/null | grep 'not found' | sort -u || true)"
if [[ -n "$missing" ]]; then
  echo "setup-triton: tritonserver or its Python stub misses libraries (on Debian/Ubuntu: apt-get install libpython$pyversion):" >&2
  echo "$missing" >&2
  exit 1
fi

finish_venv_install "$stamp" "$want"
version="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("nvidia-pytriton"))')"
echo "setup-triton: nvidia-pytriton $version (tritonserver 2.51) with onnxruntime and openvino in $venv; start a server with scripts/triton-server.sh"
