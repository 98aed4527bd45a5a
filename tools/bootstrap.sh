#!/usr/bin/env bash
# Create or refresh .venv from requirements/lock.txt. A no-op when the stamp matches.
# The stamp is the sha256 of the lock, pyproject.toml and the interpreter version, so a
# changed lock (or a different Python) triggers a re-sync and nothing else does.
set -euo pipefail
cd "$(dirname "$0")/.."

LOCK=requirements/lock.txt
VENV=.venv
STAMP="$VENV/.bootstrap-stamp"
PYTHON="${PYTHON:-python3}"

if [ ! -f "$LOCK" ]; then
  echo "error: $LOCK is missing. Restore it from git (git checkout -- $LOCK) or regenerate it with 'make lock'." >&2
  exit 2
fi
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "error: '$PYTHON' not found. Install Python 3.11 or newer, or set PYTHON=/path/to/python3." >&2
  exit 2
fi
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "error: $("$PYTHON" --version 2>&1) is too old; this project needs Python 3.11 or newer (set PYTHON=...)." >&2
  exit 2
fi

want=$( { cat "$LOCK" pyproject.toml; "$PYTHON" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  exit 0
fi

echo "bootstrap: building $VENV from $LOCK (first run, or the lock changed)" >&2
rm -f "$STAMP"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
uv_version=$(sed -n 's/^uv==\([0-9.]*\).*/\1/p' "$LOCK" | head -n1)
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$uv_version"
"$VENV/bin/uv" pip sync --quiet --compile-bytecode --python "$VENV/bin/python" --require-hashes "$LOCK"
"$VENV/bin/uv" pip install --quiet --python "$VENV/bin/python" --no-deps -e .
# The project kernel lives inside the venv, so papermill, nbval and JupyterLab find it
# without any global Jupyter configuration.
"$VENV/bin/python" -m ipykernel install --sys-prefix --name analysis \
  --display-name "Python (analysis)" >/dev/null
echo "$want" > "$STAMP"
echo "bootstrap: done" >&2
