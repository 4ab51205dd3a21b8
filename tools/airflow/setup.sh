#!/usr/bin/env bash
# Create (or reuse) the pinned Airflow venvs used to validate generated DAG files.
#
#   tools/airflow/setup.sh 3      -> <repo>/.venv/airflow3  from requirements-airflow3.lock.txt
#   tools/airflow/setup.sh 2      -> <repo>/.venv/airflow2  from requirements-airflow2.lock.txt
#   tools/airflow/setup.sh all    -> both
#
# A venv is reused when <venv>/.lock-sha256 matches the lock file's sha256 and its Python
# still works; otherwise it is deleted and rebuilt. The stamp is written last, so a build
# that failed half-way is never reused.
#
# Env:
#   PYTHON            interpreter to build the venv with (default: python3; the locks are for 3.11)
#   XO_AIRFLOW_FORCE  =1 to rebuild even if the stamp matches
#
# Needs only python3 + network access to PyPI. If the interpreter lacks ensurepip (Debian's
# python3 without the python3-venv package), the venv is bootstrapped with the outer pip, and
# only if that is impossible too, python3-venv is installed with apt-get (root only).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/../.." && pwd)"
VENV_ROOT="$REPO_ROOT/.venv"
PYTHON="${PYTHON:-python3}"
# pip used inside the venvs: recent pip installs the ~140 pinned packages about twice as fast
# as the pip 23.x that ensurepip / Debian ship. Not part of the lock stamp.
PIP_VERSION="26.3"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_PROGRESS_BAR=off

usage() { echo "usage: $0 <3|2|all>" >&2; exit 2; }
[[ $# -eq 1 ]] || usage
case "$1" in
  3) versions=(3) ;;
  2) versions=(2) ;;
  all) versions=(3 2) ;;
  *) usage ;;
esac

log() { echo "[airflow$1] ${*:2}"; }

sha256_of() { "$PYTHON" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"; }

have_ensurepip() { "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; }

# Create an empty venv with a working pip in it at $1.
make_venv() {
  local venv="$1"
  if [[ "${XO_AIRFLOW_NO_ENSUREPIP:-0}" != 1 ]] && have_ensurepip; then
    "$PYTHON" -m venv "$venv"
    "$venv/bin/python" -m pip install -q "pip==$PIP_VERSION"
    return
  fi
  # No ensurepip: create the venv without pip and let the interpreter's own pip
  # (>= 22.3 has --python) install pip into it.
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

venv_ok() {
  local venv="$1" want="$2"
  [[ -f "$venv/.lock-sha256" && "$(cat "$venv/.lock-sha256")" == "$want" ]] || return 1
  "$venv/bin/python" -c 'import importlib.metadata as m; m.version("apache-airflow")' >/dev/null 2>&1 || return 1
  # The venv is tied to the interpreter it was built with: rebuild if that changed.
  [[ "$("$venv/bin/python" -c 'import platform; print(platform.python_version())')" \
     == "$("$PYTHON" -c 'import platform; print(platform.python_version())')" ]] || return 1
}

setup_one() {
  local v="$1"
  local lock="$HERE/requirements-airflow$v.lock.txt" venv="$VENV_ROOT/airflow$v"
  [[ -f "$lock" ]] || { echo "missing $lock" >&2; return 1; }
  local want start
  want="$(sha256_of "$lock")"
  start=$SECONDS

  if [[ "${XO_AIRFLOW_FORCE:-0}" != 1 ]] && venv_ok "$venv" "$want"; then
    log "$v" "reusing $venv (lock sha256 ${want:0:12} unchanged)"
    return 0
  fi

  if [[ -e "$venv" ]]; then
    if [[ "${XO_AIRFLOW_FORCE:-0}" == 1 ]]; then
      log "$v" "XO_AIRFLOW_FORCE=1: removing $venv"
    else
      log "$v" "lock changed (or venv incomplete / other Python): removing $venv"
    fi
    rm -rf "$venv"
  fi
  mkdir -p "$VENV_ROOT"
  log "$v" "creating venv $venv with $("$PYTHON" -c 'import sys; print(sys.executable, "%d.%d.%d" % sys.version_info[:3])') + pip $PIP_VERSION"
  make_venv "$venv"
  log "$v" "installing $(grep -cvE '^\s*(#|$)' "$lock") pinned packages from $(basename "$lock") ..."
  "$venv/bin/python" -m pip install -q -r "$lock"
  log "$v" "checking dependencies (pip check) ..."
  local out ver
  if ! out="$("$venv/bin/python" -m pip check 2>&1)"; then
    echo "$out" >&2
    log "$v" "pip check failed" >&2
    return 1
  fi
  # Smoke test in a scratch AIRFLOW_HOME so ~/airflow is never created.
  if ! out="$(cd "$venv" && AIRFLOW_HOME="$venv/.airflow-home" "$venv/bin/airflow" version 2>&1)"; then
    echo "$out" | tail -n 20 >&2
    log "$v" "'airflow version' failed" >&2
    return 1
  fi
  ver="$(echo "$out" | tail -n 1)"
  rm -rf "$venv/.airflow-home"
  echo "$want" > "$venv/.lock-sha256"
  log "$v" "ready: apache-airflow $ver in $venv ($((SECONDS - start))s)"
}

# Serialise concurrent runs on the same venv (e.g. two CI steps).
for v in "${versions[@]}"; do
  if command -v flock >/dev/null 2>&1; then
    mkdir -p "$VENV_ROOT"
    (
      flock 9
      setup_one "$v"
    ) 9>"$VENV_ROOT/.airflow$v.setup-lock"
  else
    setup_one "$v"
  fi
done
