#!/usr/bin/env bash
# Make .venv (Python >= 3.12) in the repository root and install fangfan[dev] into it, editable.
# Idempotent: a second run with an unchanged pyproject.toml does nothing but print one line.
#
# Python is looked for in this order: $FANGFAN_PYTHON, python3.13, python3.12, python3 (if >= 3.12),
# pyenv's versions 3.13.* / 3.12.*, /usr/local/bin/python3.13, /usr/local/bin/python3.12.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
venv=.venv
stamp=$venv/.fangfan-installed
log=$venv/.fangfan-pip.log

die() {
  echo "bootstrap: $*" >&2
  exit 1
}

# Is "$1" a Python >= 3.12 that can make a virtual environment with pip in it?
py_ok() {
  "$1" -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

py_ge312() {
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

py_version() {
  "$1" -c 'import platform; print(platform.python_version())' 2>/dev/null || echo "?"
}

find_python() {
  local cand dir
  for cand in python3.13 python3.12 python3; do
    command -v "$cand" >/dev/null 2>&1 && py_ok "$cand" && { command -v "$cand"; return 0; }
  done
  local roots=()
  if command -v pyenv >/dev/null 2>&1; then
    dir=$(pyenv root 2>/dev/null || true)
    [ -n "$dir" ] && roots+=("$dir")
  fi
  roots+=("${PYENV_ROOT:-}" "${HOME:-/root}/.pyenv" /root/.pyenv)
  for dir in "${roots[@]}"; do
    if [ -z "$dir" ] || [ ! -d "$dir/versions" ]; then continue; fi
    # Newest first: 3.13.x before 3.12.x, 3.12.10 before 3.12.9.
    while IFS= read -r cand; do
      [ -x "$cand" ] && py_ok "$cand" && { echo "$cand"; return 0; }
    done < <(find "$dir/versions" -mindepth 1 -maxdepth 1 \( -name '3.13.*' -o -name '3.12.*' \) -printf '%f\n' 2>/dev/null \
      | sort -rV | sed "s|^|$dir/versions/|; s|\$|/bin/python3|")
  done
  for cand in /usr/local/bin/python3.13 /usr/local/bin/python3.12; do
    [ -x "$cand" ] && py_ok "$cand" && { echo "$cand"; return 0; }
  done
  return 1
}

# One bootstrap at a time per checkout (scripts/demo.sh and scripts/test.sh may start together).
if command -v flock >/dev/null 2>&1; then
  lock="${TMPDIR:-/tmp}/fangfan-bootstrap-$(printf '%s' "$root" | cksum | cut -d' ' -f1).lock"
  exec 9>"$lock"
  flock 9
fi

start=$SECONDS
made=""
if [ -x "$venv/bin/python" ] && py_ge312 "$venv/bin/python"; then
  :
else
  if [ -n "${FANGFAN_PYTHON:-}" ]; then
    py_ok "$FANGFAN_PYTHON" || die "FANGFAN_PYTHON=$FANGFAN_PYTHON is not a Python >= 3.12 with the venv module."
    py=$FANGFAN_PYTHON
  else
    py=$(find_python) || die "no Python >= 3.12 (with the venv module) found.
  Tried: \$FANGFAN_PYTHON, python3.13, python3.12, python3, pyenv versions 3.13.*/3.12.*, /usr/local/bin/python3.1[23].
  Install one (Debian 13: apt-get install -y python3 python3-venv; or pyenv install 3.13), or set FANGFAN_PYTHON=/path/to/python3."
  fi
  if [ -e "$venv" ]; then
    echo "bootstrap: $venv is broken or older than Python 3.12; making it again with $py" >&2
    rm -rf "$venv"
  fi
  if ! out=$("$py" -m venv "$venv" 2>&1); then
    rm -rf "$venv"
    echo "$out" >&2
    die "could not create $venv with $py"
  fi
  made=" (created with $py)"
fi

pyver=$(py_version "$venv/bin/python")
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ ! -x "$venv/bin/fangfan" ]; then
  if ! "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -e '.[dev]' >"$log" 2>&1; then
    cat "$log" >&2
    die "pip install -e '.[dev]' failed (output above, also in $log)"
  fi
  touch "$stamp"
  echo "bootstrap: .venv ready, Python $pyver, fangfan[dev] installed in $((SECONDS - start))s$made"
else
  echo "bootstrap: .venv up to date (Python $pyver)"
fi
