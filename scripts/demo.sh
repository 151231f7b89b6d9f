#!/usr/bin/env bash
# Install, migrate, load the demo school and serve it on http://127.0.0.1:5000.
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS=test bash scripts/setup.sh
mkdir -p instance
if [ -z "${TUITION_SECRET_KEY:-}" ]; then
    # A demo-only key, kept in instance/ (never committed) so printed links stay valid.
    [ -s instance/demo-secret-key ] || .venv/bin/python -c 'import secrets; print(secrets.token_hex(32))' > instance/demo-secret-key
    TUITION_SECRET_KEY=$(cat instance/demo-secret-key)
    export TUITION_SECRET_KEY
fi
export FLASK_APP=wsgi
.venv/bin/flask db upgrade
.venv/bin/flask tuition demo --url "http://127.0.0.1:${PORT:-5000}"
exec .venv/bin/flask run --host 127.0.0.1 --port "${PORT:-5000}"
