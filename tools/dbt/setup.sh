#!/usr/bin/env bash
# Create (or reuse) <repo>/.venv/dbt: dbt-core with the DuckDB and Snowflake adapters for the dbt
# plugin's tests, pinned by requirements.lock.txt. Reuse and rebuild rules are tools/lib/venv.sh's.
#
# To re-pin: edit requirements.in, install it into a scratch venv, and write
# `pip freeze --all --exclude pip --exclude setuptools --exclude wheel` to requirements.lock.txt.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/venv.sh
source "$HERE/../lib/venv.sh"
ensure_venv dbt "$(cd "$HERE/../.." && pwd)/.venv/dbt" "$HERE/requirements.lock.txt" \
  'import dbt.version, dbt.adapters.duckdb, dbt.adapters.snowflake, duckdb; assert duckdb.__version__ == "1.5.6"'
