#!/usr/bin/env bash
# Create (or reuse) <repo>/.venv/services: moto_server (the S3 API), fakesnow with
# Snowflake's Python connector, sqlglot (the Snowflake grammar the SQL tests parse with) and
# openlineage-python (the OpenLineage model the lineage receiver checks events against),
# pinned by requirements.lock.txt. Reuse and rebuild rules are tools/lib/venv.sh's.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/venv.sh
source "$HERE/../lib/venv.sh"
ensure_venv services "$(cd "$HERE/../.." && pwd)/.venv/services" "$HERE/requirements.lock.txt" 'import moto, fakesnow, snowflake.connector, sqlglot, openlineage.client'
