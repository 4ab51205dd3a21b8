#!/usr/bin/env bash
# Create (or reuse) <repo>/.venv/bench-dlt: dlt with DuckDB for the pipeline benchmark, pinned
# by requirements.lock.txt. Reuse and rebuild rules are tools/lib/venv.sh's.
#
# To re-pin: edit requirements.in, install it into a scratch venv, and write
# `pip freeze --all --exclude pip --exclude setuptools --exclude wheel` to requirements.lock.txt.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../../lib/venv.sh
source "$HERE/../../lib/venv.sh"
ensure_venv bench-dlt "$(cd "$HERE/../../.." && pwd)/.venv/bench-dlt" "$HERE/requirements.lock.txt" \
  'import dlt, duckdb; from dlt.sources.rest_api import rest_api_source; assert duckdb.__version__ == "1.5.6"'
