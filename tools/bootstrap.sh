#!/usr/bin/env bash
# Create or refresh .venv from requirements/lock.txt. A no-op when the stamp matches.
# The stamp is the sha256 of the lock, pyproject.toml and the interpreter version, so a
# changed lock (or a different Python) triggers a re-sync and nothing else does.
# Supported: Python 3.11, 3.12 and 3.13 (pyproject's requires-python, tested on each). The lock
# gives all three the same package versions, and the outputs are the same bytes on each, so
# which of them builds .venv needs no warning; an untested newer Python is refused.
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
SUPPORTED="3.11, 3.12 or 3.13"
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "error: '$PYTHON' not found. Install Python $SUPPORTED, or set PYTHON=/path/to/python3." >&2
  exit 2
fi
if ! minor=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>&1); then
  # A pyenv shim, for one, exists on PATH but may refuse to run a version that is not selected.
  echo "error: '$PYTHON' is on PATH but does not run: $(echo "$minor" | head -n1). Set PYTHON to the path of a Python $SUPPORTED interpreter." >&2
  exit 2
fi
case "$minor" in
  3.11 | 3.12 | 3.13) ;;
  *)
    echo "error: $PYTHON is Python ${minor:-of an unknown version}; this project supports Python $SUPPORTED (pyproject.toml requires-python), the versions its lock and outputs are tested on. Set PYTHON=/path/to/python3.13 or another of them." >&2
    exit 2
    ;;
esac

python_version=$("$PYTHON" -c 'import sys; print(sys.version)')
# macOS has shasum rather than sha256sum.
if command -v sha256sum >/dev/null 2>&1; then sha256=(sha256sum); else sha256=(shasum -a 256); fi
want=$( { cat "$LOCK" pyproject.toml; echo "$python_version"; } | "${sha256[@]}" | cut -d' ' -f1)

# JupyterLab's defaults for this project, as an overrides file inside the venv (JupyterLab reads
# <sys.prefix>/share/jupyter/lab/settings/overrides.d/*.json before the user's own settings, so a
# researcher can still change them): no prompt to fetch Jupyter news and no update check, both
# of which would reach the network. Written on every run, even a no-op one, when it differs, so
# that a .venv made before this setting gets it without a re-sync.
LAB_OVERRIDES="$VENV/share/jupyter/lab/settings/overrides.d/analysis.json"
lab_overrides() {
  local text='{
  "@jupyterlab/apputils-extension:notification": {
    "fetchNews": "false",
    "checkForUpdates": false
  }
}'
  if [ "$(cat "$LAB_OVERRIDES" 2>/dev/null)" != "$text" ]; then
    mkdir -p "$(dirname "$LAB_OVERRIDES")"
    printf '%s\n' "$text" > "$LAB_OVERRIDES"
  fi
}

if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  lab_overrides
  exit 0
fi

echo "bootstrap: building $VENV from $LOCK (first run, the lock changed, or another Python)" >&2
rm -f "$STAMP"
if [ -x "$VENV/bin/python" ]; then
  # A .venv made by another interpreter is made anew with this one: syncing the lock into it
  # would keep the old interpreter under a stamp that names the new one.
  venv_version=$("$VENV/bin/python" -c 'import sys; print(sys.version)' 2>/dev/null || true)
  if [ -n "$venv_version" ] && [ "$venv_version" != "$python_version" ]; then
    echo "bootstrap: $VENV was made with Python ${venv_version%% *}; making it anew with $PYTHON (Python ${python_version%% *})" >&2
    "$PYTHON" -m venv --clear "$VENV"
  fi
else
  "$PYTHON" -m venv "$VENV"
fi
uv_version=$(sed -n 's/^uv==\([0-9.]*\).*/\1/p' "$LOCK" | head -n1)
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$uv_version"
"$VENV/bin/uv" pip sync --quiet --compile-bytecode --python "$VENV/bin/python" --require-hashes "$LOCK"
"$VENV/bin/uv" pip install --quiet --python "$VENV/bin/python" --no-deps -e .
# The project kernel lives inside the venv, so papermill, nbval and JupyterLab find it
# without any global Jupyter configuration.
"$VENV/bin/python" -m ipykernel install --sys-prefix --name analysis \
  --display-name "Python (analysis)" >/dev/null
lab_overrides
echo "$want" > "$STAMP"
echo "bootstrap: done" >&2
