#!/usr/bin/env bash
# Create (or reuse) <repo>/.venv/services: moto_server (the S3 API) and fakesnow with
# Snowflake's Python connector, pinned by requirements.lock.txt. Reuse and rebuild rules
# are tools/lib/venv.sh's.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/venv.sh
source "$HERE/../lib/venv.sh"
ensure_venv services "$(cd "$HERE/../.." && pwd)/.venv/services" "$HERE/requirements.lock.txt" 'import moto, fakesnow, snowflake.connector'
