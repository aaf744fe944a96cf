#!/usr/bin/env bash
# Creates the project-local Python environment (.venv/) for the reference scripts in scripts/
# and installs the pinned packages of scripts/requirements-reference.txt.
# Idempotent: a stamp file holds the hash of the requirements it was built from, and a
# second run with the same requirements returns at once.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/lib/stamped-venv.sh"
venv="$root/.venv"
requirements="$root/scripts/requirements-reference.txt"
stamp="$venv/.requirements.sha256"

want="$(stamp_hash "$requirements")"
if venv_is_current "$venv" "$stamp" "$want"; then
  echo "setup-python: $venv is up to date"
  exit 0
fi

begin_venv_install setup-python "$venv" "$stamp"
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet --upgrade pip
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$requirements"
finish_venv_install "$stamp" "$want"
echo "setup-python: installed $(grep -cE '^[A-Za-z0-9]' "$requirements") packages into $venv"
