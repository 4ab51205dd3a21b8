#!/usr/bin/env bash
# Smoke test of the Airflow toolchain against the fixtures in tools/airflow/fixtures/.
#
#   tools/airflow/verify.sh <3|2|all>
#
# Runs setup.sh for the version(s), then for each:
#   1. check_dags.py on the fixtures (no import errors, expected DAGs and edges)
#   2. check_dags.py on a broken file (exit 1, error reported)
#   3. `airflow dags list-import-errors` (the CLI flavour of the same check)
#   4. `airflow dags test sample_users 2026-01-02` (params + env templating rendered)
#   5. `airflow dags test sample_conn 2026-01-02` with AIRFLOW_CONN_SAMPLE_API set
#      ({{ conn.sample_api.get_uri() }} rendered; masked in the rendered-fields table)
# Ends with a "N passed, N failed" line; exits 1 if anything failed. `dags test` runs under
# `timeout 300` because a failing task with retries/retry_delay makes it wait, not fail.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
case "${1:-}" in
  3) versions=(3) ;;
  2) versions=(2) ;;
  all) versions=(3 2) ;;
  *) echo "usage: $0 <3|2|all>" >&2; exit 2 ;;
esac

"$HERE/setup.sh" "$1"

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "  ok   - $*"; }
bad() { failed=$((failed + 1)); echo "  FAIL - $*"; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/xo-airflow-verify.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

verify_one() {
  local v="$1" venv
  venv="$(cd "$HERE/../.." && pwd)/.venv/airflow$v"
  local py="$venv/bin/python" dags="$WORK/dags$v" out="$WORK/out$v"
  mkdir -p "$dags" "$out" "$WORK/broken$v"
  if [[ "$v" == 3 ]]; then
    cp "$HERE/fixtures/sample_dag.py" "$HERE/fixtures/sample_conn_dag.py" "$dags/"
  else
    cp "$HERE/fixtures/sample_dag_airflow2.py" "$HERE/fixtures/sample_conn_dag_airflow2.py" "$dags/"
  fi
  printf 'from airflow import DAG\nx = (\n' > "$WORK/broken$v/broken_dag.py"
  echo "== Airflow $v ($("$py" -c 'import importlib.metadata as m; print(m.version("apache-airflow"))'))"

  # 1. check_dags.py, good folder
  local t0=$SECONDS rc=0
  "$py" "$HERE/check_dags.py" "$dags" >"$out/check.json" 2>"$out/check.err" || rc=$?
  if [[ $rc == 0 ]] && "$py" - "$out/check.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["dags"] == ["sample_conn", "sample_users"], r["dags"]
assert r["import_errors"] == {}, r["import_errors"]
assert r["tasks"]["sample_users"] == {"extract_users": ["load_users"], "load_users": []}, r["tasks"]
EOF
  then ok "check_dags.py fixtures: no import errors, edges ok ($((SECONDS - t0))s)"
  else bad "check_dags.py fixtures (rc=$rc): $(head -c 400 "$out/check.json") $(tail -n 5 "$out/check.err")"; fi

  # 2. check_dags.py, broken folder
  rc=0
  "$py" "$HERE/check_dags.py" "$WORK/broken$v" >"$out/broken.json" 2>/dev/null || rc=$?
  if [[ $rc == 1 ]] && grep -q "SyntaxError" "$out/broken.json"; then ok "check_dags.py broken file: exit 1 + SyntaxError reported"
  else bad "check_dags.py broken file (rc=$rc): $(head -c 400 "$out/broken.json")"; fi

  # 3-5 in a throwaway AIRFLOW_HOME
  (
    # shellcheck source=airflow-env.sh
    source "$HERE/airflow-env.sh" "$v" "$dags"
    trap xo_airflow_env_cleanup EXIT
    local flag=()
    [[ "$v" == 3 ]] && flag=(--local)
    t0=$SECONDS rc=0
    AIRFLOW__LOGGING__LOGGING_LEVEL=WARNING PYTHONWARNINGS=ignore \
      airflow dags list-import-errors "${flag[@]}" -o json >"$out/lie.json" 2>"$out/lie.err" || rc=$?
    if [[ $rc == 0 ]] && [[ "$(tail -n 1 "$out/lie.json")" == "[]" ]]; then
      ok "airflow dags list-import-errors ${flag[*]:+${flag[*]} }-o json -> [] ($((SECONDS - t0))s)"
    else bad "list-import-errors (rc=$rc): $(tail -c 400 "$out/lie.json") $(tail -n 5 "$out/lie.err")"; fi

    t0=$SECONDS rc=0
    timeout 300 airflow dags test sample_users 2026-01-02 >"$out/test.log" 2>&1 || rc=$?
    local took=$((SECONDS - t0))
    if [[ $rc == 0 ]] \
      && grep -q "Running command: \['/usr/bin/bash', '-c', 'echo task examples/demo.yaml extract_users" "$out/test.log" \
      && grep -q "task examples/demo.yaml extract_users --logical-date 2026-01-02 --run-id manual__" "$out/test.log" \
      && grep -q "task examples/demo.yaml load_users --logical-date 2026-01-02 --run-id manual__" "$out/test.log"; then
      ok "airflow dags test sample_users 2026-01-02: params.xo_command -> echo, \$XO_LOGICAL_DATE -> 2026-01-02 (${took}s)"
      echo "         $(grep -o "task examples/demo.yaml extract_users --logical-date 2026-01-02 --run-id [^ ]*" "$out/test.log" | head -n 1)"
    else bad "dags test sample_users (rc=$rc), log: $out/test.log"; tail -n 30 "$out/test.log"; fi

    t0=$SECONDS rc=0
    AIRFLOW_CONN_SAMPLE_API='{"conn_type":"http","host":"127.0.0.1","port":8080,"password":"s3cret"}' \
      timeout 300 airflow dags test sample_conn 2026-01-02 >"$out/conn.log" 2>&1 || rc=$?
    local line
    # shellcheck disable=SC2016 # literal $XO: skip the "Running command" line, keep the output
    line="$(grep -o 'XO_CONN_SAMPLE_API=\[[^]]*\]' "$out/conn.log" | grep -v '\$XO' | head -n 1 || true)"
    if [[ $rc == 0 && "$line" =~ ^XO_CONN_SAMPLE_API=\[http://:(s3cret|\*\*\*)@127\.0\.0\.1:8080\]$ ]]; then
      ok "conn.sample_api.get_uri() rendered; dags-test console shows: $line ($((SECONDS - t0))s)"
    else bad "dags test sample_conn (rc=$rc): '$line', log: $out/conn.log"; fi
    local rtif
    rtif="$("$XO_AIRFLOW_VENV/bin/python" - "$AIRFLOW_HOME/airflow.db" <<'EOF'
import json, sqlite3, sys
row = sqlite3.connect(sys.argv[1]).execute(
    "select rendered_fields from rendered_task_instance_fields where dag_id='sample_conn'").fetchone()
print(json.loads(row[0])["env"]["XO_CONN_SAMPLE_API"] if row else "<none>")
EOF
)"
    if [[ "$rtif" == "http://:***@127.0.0.1:8080" ]]; then ok "rendered-fields table (UI) stores the URI masked: $rtif"
    else bad "rendered-fields table: '$rtif'"; fi
    echo "$passed $failed" >"$out/counts"
  ) || true
  if [[ -f "$out/counts" ]]; then read -r passed failed <"$out/counts"; else failed=$((failed + 1)); fi
}

for v in "${versions[@]}"; do verify_one "$v"; done
echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
