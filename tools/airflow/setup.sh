#!/usr/bin/env bash
# Create (or reuse) the pinned Airflow venvs used to validate generated DAG files.
#
#   tools/airflow/setup.sh 3      -> <repo>/.venv/airflow3  from requirements-airflow3.lock.txt
#   tools/airflow/setup.sh 2      -> <repo>/.venv/airflow2  from requirements-airflow2.lock.txt
#   tools/airflow/setup.sh all    -> both
#
# Reuse and rebuild rules are tools/lib/venv.sh's (XO_VENV_FORCE=1 rebuilds).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV_ROOT="$(cd "$HERE/../.." && pwd)/.venv"
# shellcheck source=../lib/venv.sh
source "$HERE/../lib/venv.sh"

usage() { echo "usage: $0 <3|2|all>" >&2; exit 2; }
[[ $# -eq 1 ]] || usage
case "$1" in
  3) versions=(3) ;;
  2) versions=(2) ;;
  all) versions=(3 2) ;;
  *) usage ;;
esac

# `airflow version` in a scratch AIRFLOW_HOME, so ~/airflow is never created.
airflow_smoke() {
  local venv="$1" out
  if ! out="$(cd "$venv" && AIRFLOW_HOME="$venv/.airflow-home" "$venv/bin/airflow" version 2>&1)"; then
    echo "$out" | tail -n 20 >&2
    echo "'airflow version' failed" >&2
    return 1
  fi
  rm -rf "$venv/.airflow-home"
  echo "apache-airflow $(echo "$out" | tail -n 1)"
}

for v in "${versions[@]}"; do
  ensure_venv "airflow$v" "$VENV_ROOT/airflow$v" "$HERE/requirements-airflow$v.lock.txt" \
    'import importlib.metadata as m; m.version("apache-airflow")' airflow_smoke
done
