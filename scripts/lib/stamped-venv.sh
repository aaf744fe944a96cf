# Sourced by scripts/setup-*.sh: a project-local Python venv whose install is recorded by a stamp,
# a file holding the hash of what it was built from. A second run with the same inputs returns at
# once; a half-finished install never looks finished (the stamp goes before pip starts and comes
# back only at the end).
#
#   want="$(stamp_hash FILE...)"
#   if venv_is_current "$venv" "$stamp" "$want"; then echo "...up to date"; exit 0; fi
#   begin_venv_install setup-x "$venv" "$stamp"   # creates the venv with $PYTHON (default python3)
#   "$venv/bin/python" -m pip install ...
#   finish_venv_install "$stamp" "$want"

# The sha256 of the files' contents, one after the other.
stamp_hash() {
  if (($# == 0)); then
    echo "stamp_hash: no files to hash" >&2
    return 1
  fi
  cat "$@" | sha256sum | cut -d' ' -f1
}

venv_is_current() {
  local venv="$1" stamp="$2" want="$3"
  [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]
}

begin_venv_install() {
  local tag="$1" venv="$2" stamp="$3" python="${PYTHON:-python3}"
  if [[ ! -x "$venv/bin/python" ]]; then
    echo "$tag: creating $venv with $("$python" --version 2>&1)"
    "$python" -m venv "$venv"
  fi
  rm -f "$stamp"
}

finish_venv_install() {
  echo "$2" > "$1"
}
