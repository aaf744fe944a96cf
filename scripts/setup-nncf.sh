#!/usr/bin/env bash
# Installs NNCF (scripts/requirements-nncf.txt) into the project-local .venv/ for
# scripts/reference_nncf.py, after OpenVINO (scripts/setup-openvino.sh). Idempotent: a stamp holds
# the hash of the requirements it installed; a second run returns at once.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/lib/stamped-venv.sh"
venv="$root/.venv"
requirements="$root/scripts/requirements-nncf.txt"
stamp="$venv/.nncf.sha256"

bash "$root/scripts/setup-python.sh"
bash "$root/scripts/setup-openvino.sh"
want="$(stamp_hash "$requirements")"
if venv_is_current "$venv" "$stamp" "$want"; then
  echo "setup-nncf: NNCF in $venv is up to date"
  exit 0
fi
begin_venv_install setup-nncf "$venv" "$stamp"
# The constraints keep pip from moving the pins the other scripts installed (numpy, openvino).
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$requirements" \
  -c "$root/scripts/requirements-reference.txt" -c "$root/scripts/requirements-openvino.txt"
finish_venv_install "$stamp" "$want"
echo "setup-nncf: $("$venv/bin/python" -c 'import nncf; print("NNCF", nncf.__version__)') installed into $venv"
