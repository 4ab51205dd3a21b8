#!/usr/bin/env bash
# Create (or reuse) <repo>/.venv/services: moto_server (the S3 API) and fakesnow with
# Snowflake's Python connector, pinned by requirements.lock.txt. Reused while the lock's
# sha256 matches the stamp written after a complete install.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$(cd "$HERE/../.." && pwd)/.venv/services"
LOCK="$HERE/requirements.lock.txt"
PYTHON="${PYTHON:-python3}"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_PROGRESS_BAR=off

want="$("$PYTHON" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$LOCK")"
if [[ -f "$VENV/.lock-sha256" && "$(cat "$VENV/.lock-sha256")" == "$want" && -x "$VENV/bin/moto_server" ]]; then
  echo "[services] reusing $VENV (lock sha256 ${want:0:12} unchanged)"
  exit 0
fi
start=$SECONDS
rm -rf "$VENV"
echo "[services] creating $VENV from $(basename "$LOCK") ..."
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q "pip==26.3"
"$VENV/bin/python" -m pip install -q -r "$LOCK"
"$VENV/bin/python" -m pip check >/dev/null
echo "$want" > "$VENV/.lock-sha256"
echo "[services] ready: moto_server, fakesnow in $VENV ($((SECONDS - start))s)"
