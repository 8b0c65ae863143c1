#!/usr/bin/env bash
# Builds (or reuses) the virtualenv with today's Dask from PyPI, for the tests that run against
# both Debian's python3-distributed 2022.12 (/usr/bin/python3) and distributed 2026.8.x.
#
#   bash test/servers/dask/build-venv.sh        # prints the venv's python on stdout
#
# The venv lives outside the clone, keyed by the release series: ~/.cache/ebbtide/dask-venv/2026.8/
# (override with EBBTIDE_DASK_VENV). It is made from the `python3` on PATH (CPython >= 3.10 with
# pip; Debian's /usr/bin/python3 has no venv module unless python3-venv is installed). A venv is
# reused only if its build finished (the .complete marker is written last) and it imports a
# distributed of the series; otherwise it is deleted and built again, so an interrupted build
# never leaves a half-installed venv in use. A lock serialises concurrent callers.
set -euo pipefail

SERIES="2026.8"
# Test tools the venv carries besides Dask: pytest for the Python package's suite
# (adapters/python/tests). Added to a venv built before they were listed, without rebuilding it.
TOOLS=(pytest==9.2.0)
DIR="${EBBTIDE_DASK_VENV:-$HOME/.cache/ebbtide/dask-venv/$SERIES}"
PY="$DIR/bin/python"

ready() {
  [ -f "$DIR/.complete" ] && [ -x "$PY" ] &&
    "$PY" -c "import distributed, sys; sys.exit(0 if distributed.__version__.startswith('$SERIES.') else 1)" >/dev/null 2>&1
}

mkdir -p "$(dirname "$DIR")"
exec 9>"$DIR.lock"
flock 9

if ! ready; then
  BASE="$(command -v python3 || true)"
  if [ -z "$BASE" ] || ! "$BASE" -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 10) else 1)' >/dev/null 2>&1; then
    echo "build-venv.sh: need a python3 >= 3.10 with the venv and ensurepip modules on PATH (found: ${BASE:-none})" >&2
    exit 1
  fi
  rm -rf "$DIR"
  "$BASE" -m venv "$DIR"
  "$PY" -m pip install --quiet --disable-pip-version-check "distributed==$SERIES.*" >&2
  "$PY" -c "import distributed; print(distributed.__version__)" >"$DIR/.complete"
fi
if ! "$PY" -c 'import pytest' >/dev/null 2>&1; then
  "$PY" -m pip install --quiet --disable-pip-version-check "${TOOLS[@]}" >&2
fi

echo "$PY"
