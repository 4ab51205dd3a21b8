#!/usr/bin/env bash
# Run `airflow dags test` in a throwaway Airflow home and report how every task ended.
#
#   tools/airflow/dags-test.sh <3|2> <dags folder> <dag id> <logical date> <log file>
#
# The full Airflow output goes to <log file>; stdout gets one JSON line:
#   {"exit_code": 0, "tasks": {"extract_orders": "success", ...}}
# read from the metadata database before the throwaway home is deleted.
set -uo pipefail
[[ $# -eq 5 ]] || { echo "usage: $0 <3|2> <dags folder> <dag id> <logical date> <log file>" >&2; exit 2; }
version="$1" dags="$2" dag_id="$3" date="$4" log="$5"
# shellcheck source=airflow-env.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/airflow-env.sh" "$version" "$dags" || exit 1
trap xo_airflow_env_cleanup EXIT
# Pools the DAG uses, as "name=slots name=slots" (tasks in a missing pool never run).
for pool in ${XO_AIRFLOW_POOLS:-}; do
  airflow pools set "${pool%%=*}" "${pool#*=}" "created by dags-test.sh" >/dev/null 2>&1 || { echo "cannot create pool $pool" >&2; exit 1; }
done
# A failing task with retries would keep `dags test` waiting out the retry delay.
timeout "${XO_DAGS_TEST_TIMEOUT:-600}" airflow dags test "$dag_id" "$date" >"$log" 2>&1
rc=$?
python - "$rc" "$dag_id" <<'PY'
import json, os, sqlite3, sys
db = sqlite3.connect(os.path.join(os.environ["AIRFLOW_HOME"], "airflow.db"))
rows = db.execute("select task_id, state from task_instance where dag_id = ? order by task_id", (sys.argv[2],)).fetchall()
print(json.dumps({"exit_code": int(sys.argv[1]), "tasks": dict(rows)}))
PY
