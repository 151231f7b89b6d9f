#!/usr/bin/env bash
# Refresh the English catalogue after changing user-facing text: extract, update, fill from the
# tables in scripts/i18n/*.json ({"Vietnamese source": "English"}), compile.
# Source strings are Vietnamese (the default language); English is the translation.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o tuition/translations/messages.pot .
.venv/bin/pybabel update -i tuition/translations/messages.pot -d tuition/translations -l en
.venv/bin/python scripts/i18n/fill.py scripts/i18n/*.json
.venv/bin/pybabel compile -d tuition/translations -l en
