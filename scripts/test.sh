#!/usr/bin/env bash
# Install everything, then run the test suite (DATABASE_URL selects PostgreSQL; default SQLite).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
