# shellcheck shell=bash
# Pinned Python venvs for the test suite, shared by tools/airflow/setup.sh and
# tools/services/setup.sh. Source it, then call:
#
#   ensure_venv <label> <venv dir> <lock file> <probe python code> [smoke function]
#
# A venv is reused while <venv>/.lock-sha256 matches the lock's sha256, the probe
# imports, and it was built with the same Python; otherwise it is rebuilt from the
# lock. The stamp is written last, so a half-built venv is never reused.
#
# Env: PYTHON (default python3), XO_VENV_FORCE=1 to rebuild anyway.
# Needs only python3 + PyPI; without ensurepip (Debian's python3 minus python3-venv) pip is
# bootstrapped with the outer pip, and only as a last resort python3-venv comes from apt-get.

PYTHON="${PYTHON:-python3}"
# Recent pip installs the ~140 pinned packages about twice as fast as the pip 23.x that
# ensurepip and Debian ship. Not part of the lock stamp.
PIP_VERSION="26.3"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_PROGRESS_BAR=off

sha256_of() { "$PYTHON" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"; }

# An empty venv with a working pip at $1.
make_venv() {
  local venv="$1"
  if [[ "${XO_VENV_NO_ENSUREPIP:-0}" != 1 ]] && "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    "$PYTHON" -m venv "$venv"
    "$venv/bin/python" -m pip install -q "pip==$PIP_VERSION"
    return
  fi
  if "$PYTHON" -m pip --version >/dev/null 2>&1 \
     && "$PYTHON" -m venv --without-pip "$venv" 2>/dev/null \
     && "$PYTHON" -m pip --python "$venv/bin/python" install -q "pip==$PIP_VERSION" >/dev/null 2>&1 \
     && "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
    return
  fi
  rm -rf "$venv"
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    local pkg
    pkg="python$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')-venv"
    echo "[setup] $PYTHON has no ensurepip; installing $pkg with apt-get" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
    "$PYTHON" -m venv "$venv"
    "$venv/bin/python" -m pip install -q "pip==$PIP_VERSION"
    return
  fi
  echo "[setup] cannot create a venv with pip: install python3-venv (or python3-pip) first" >&2
  return 1
}

_venv_current() {
  local venv="$1" want="$2" probe="$3"
  [[ -f "$venv/.lock-sha256" && "$(cat "$venv/.lock-sha256")" == "$want" ]] || return 1
  "$venv/bin/python" -c "$probe" >/dev/null 2>&1 || return 1
  # A venv is tied to the interpreter it was built with.
  [[ "$("$venv/bin/python" -c 'import platform; print(platform.python_version())')" \
     == "$("$PYTHON" -c 'import platform; print(platform.python_version())')" ]]
}

_build_venv() {
  local label="$1" venv="$2" lock="$3" probe="$4" smoke="${5:-}"
  [[ -f "$lock" ]] || { echo "[$label] missing $lock" >&2; return 1; }
  local want start out
  want="$(sha256_of "$lock")"
  start=$SECONDS
  if [[ "${XO_VENV_FORCE:-0}" != 1 ]] && _venv_current "$venv" "$want" "$probe"; then
    echo "[$label] reusing $venv (lock sha256 ${want:0:12} unchanged)"
    return 0
  fi
  if [[ -e "$venv" ]]; then
    echo "[$label] lock changed (or venv incomplete / other Python): removing $venv"
    rm -rf "$venv"
  fi
  mkdir -p "$(dirname "$venv")"
  echo "[$label] creating venv $venv with $("$PYTHON" -c 'import sys; print(sys.executable, "%d.%d.%d" % sys.version_info[:3])') + pip $PIP_VERSION"
  make_venv "$venv"
  echo "[$label] installing $(grep -cvE '^\s*(#|$)' "$lock") pinned packages from $(basename "$lock") ..."
  "$venv/bin/python" -m pip install -q -r "$lock"
  echo "[$label] checking dependencies (pip check) ..."
  if ! out="$("$venv/bin/python" -m pip check 2>&1)"; then
    echo "$out" >&2
    echo "[$label] pip check failed" >&2
    return 1
  fi
  "$venv/bin/python" -c "$probe" || { echo "[$label] the installed venv fails its probe" >&2; return 1; }
  if [[ -n "$smoke" ]]; then "$smoke" "$venv" || return 1; fi
  echo "$want" > "$venv/.lock-sha256"
  echo "[$label] ready: $venv ($((SECONDS - start))s)"
}

# Serialises concurrent setups of the same venv (e.g. two CI steps).
ensure_venv() {
  local venv="$2"
  mkdir -p "$(dirname "$venv")"
  if command -v flock >/dev/null 2>&1; then
    (
      flock 9
      _build_venv "$@"
    ) 9>"$venv.setup-lock"
  else
    _build_venv "$@"
  fi
}
