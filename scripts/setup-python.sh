#!/usr/bin/env bash
# Creates the project-local Python environment (.venv/) for the reference scripts in scripts/
# and installs the pinned packages of scripts/requirements-reference.txt.
# Idempotent: a stamp file holds the hash of the requirements it was built from, and a
# second run with the same requirements returns at once.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
requirements="$root/scripts/requirements-reference.txt"
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3}"

want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "setup-python: $venv is up to date"
  exit 0
fi

if [[ ! -x "$venv/bin/python" ]]; then
  echo "setup-python: creating $venv with $("$python" --version 2>&1)"
  "$python" -m venv "$venv"
fi

# A half-finished install must not look finished: drop the stamp before installing.
rm -f "$stamp"
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet --upgrade pip
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$requirements"
echo "$want" > "$stamp"
echo "setup-python: installed $(grep -cE '^[A-Za-z0-9]' "$requirements") packages into $venv"
