#!/usr/bin/env bash
# Throwaway Airflow environment (SQLite metadata DB in a temp AIRFLOW_HOME) for one of the
# venvs built by tools/airflow/setup.sh.
#
# Source it (the environment stays in your shell until xo_airflow_env_cleanup):
#     source tools/airflow/airflow-env.sh 3 path/to/dags
#     airflow dags list-import-errors --local -o json
#     airflow dags test sample_users 2026-01-02
#     xo_airflow_env_cleanup
#
# Or execute it to run one command in a fresh environment that is deleted afterwards:
#     tools/airflow/airflow-env.sh 3 path/to/dags -- airflow dags test sample_users 2026-01-02
#
# Arguments: <3|2> [DAGS_FOLDER]   (DAGS_FOLDER defaults to an empty $AIRFLOW_HOME/dags)
#
# What it exports:
#   AIRFLOW_HOME                           fresh mktemp -d (airflow.cfg is generated there on first use)
#   AIRFLOW__CORE__LOAD_EXAMPLES=False     otherwise ~80 example DAGs are parsed/serialised (slow)
#   AIRFLOW__CORE__DAGS_FOLDER             absolute path of DAGS_FOLDER
#   AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS=False
#   PATH                                   venv bin/ first (Airflow 2's --use-executor runs `airflow`)
#   XO_AIRFLOW_VENV, XO_AIRFLOW_VERSION
# and creates the metadata DB. `airflow db migrate` takes ~4-5 s; the migrated SQLite file is
# cached once per venv in <venv>/.airflow-db-template/ and copied afterwards (set
# XO_AIRFLOW_DB_TEMPLATE=0 to always run `airflow db migrate`). The cache lives inside the venv,
# so a venv rebuilt for a new lock starts with a fresh cache.

_xo_airflow_env_main() {
  local version="${1:-}" dags="${2:-}"
  case "$version" in
    2|3) ;;
    *) echo "usage: source airflow-env.sh <3|2> [DAGS_FOLDER]" >&2; return 2 ;;
  esac
  local here repo venv
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  repo="$(cd "$here/../.." && pwd)"
  venv="$repo/.venv/airflow$version"
  if [[ ! -x "$venv/bin/airflow" ]]; then
    echo "airflow-env: $venv not found; run tools/airflow/setup.sh $version first" >&2
    return 1
  fi

  local home
  home="$(mktemp -d "${TMPDIR:-/tmp}/xo-airflow$version-home.XXXXXX")" || return 1
  if [[ -z "$dags" ]]; then
    dags="$home/dags"
    mkdir -p "$dags"
  fi
  if [[ ! -e "$dags" ]]; then
    echo "airflow-env: DAGS_FOLDER $dags does not exist" >&2
    rm -rf "$home"
    return 1
  fi
  dags="$(cd "$dags" && pwd)"

  export XO_AIRFLOW_VENV="$venv" XO_AIRFLOW_VERSION="$version"
  export XO_AIRFLOW_ENV_OLD_PATH="${XO_AIRFLOW_ENV_OLD_PATH:-$PATH}"
  export PATH="$venv/bin:$XO_AIRFLOW_ENV_OLD_PATH"
  export AIRFLOW_HOME="$home"
  export XO_AIRFLOW_TMP_HOME="$home"
  export AIRFLOW__CORE__LOAD_EXAMPLES=False
  export AIRFLOW__CORE__DAGS_FOLDER="$dags"
  export AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS=False

  local tpl="$venv/.airflow-db-template/airflow.db"
  if [[ "${XO_AIRFLOW_DB_TEMPLATE:-1}" != 0 && -s "$tpl" ]]; then
    cp "$tpl" "$home/airflow.db" || return 1
  else
    if ! "$venv/bin/airflow" db migrate >"$home/db-migrate.log" 2>&1; then
      echo "airflow-env: 'airflow db migrate' failed, see $home/db-migrate.log" >&2
      tail -n 20 "$home/db-migrate.log" >&2
      return 1
    fi
    if [[ "${XO_AIRFLOW_DB_TEMPLATE:-1}" != 0 ]]; then
      mkdir -p "$venv/.airflow-db-template" \
        && cp "$home/airflow.db" "$tpl.tmp.$$" && mv -f "$tpl.tmp.$$" "$tpl"
    fi
  fi
}

xo_airflow_env_cleanup() {
  if [[ -n "${XO_AIRFLOW_TMP_HOME:-}" && "${AIRFLOW_HOME:-}" == "$XO_AIRFLOW_TMP_HOME" ]]; then
    rm -rf "$XO_AIRFLOW_TMP_HOME"
  fi
  if [[ -n "${XO_AIRFLOW_ENV_OLD_PATH:-}" ]]; then
    export PATH="$XO_AIRFLOW_ENV_OLD_PATH"
  fi
  unset AIRFLOW_HOME AIRFLOW__CORE__LOAD_EXAMPLES AIRFLOW__CORE__DAGS_FOLDER \
    AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS XO_AIRFLOW_VENV XO_AIRFLOW_VERSION \
    XO_AIRFLOW_TMP_HOME XO_AIRFLOW_ENV_OLD_PATH
}

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  # Sourced.
  _xo_airflow_env_main "$@"
else
  # Executed: airflow-env.sh <3|2> [DAGS_FOLDER] -- command args...
  set -euo pipefail
  _args=()
  while [[ $# -gt 0 && "$1" != "--" ]]; do _args+=("$1"); shift; done
  if [[ $# -lt 2 ]]; then
    echo "usage: $0 <3|2> [DAGS_FOLDER] -- command [args...]" >&2
    exit 2
  fi
  shift
  _xo_airflow_env_main "${_args[@]}"
  trap xo_airflow_env_cleanup EXIT
  set +e
  "$@"
  _rc=$?
  exit "$_rc"
fi
