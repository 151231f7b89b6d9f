#!/usr/bin/env bash
# Refresh the English catalogue after changing user-facing text: extract, update, compile.
# Source strings are Vietnamese (the default language); English is the translation.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o tuition/translations/messages.pot .
.venv/bin/pybabel update -i tuition/translations/messages.pot -d tuition/translations -l en
.venv/bin/pybabel compile -d tuition/translations -l en
