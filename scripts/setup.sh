#!/usr/bin/env bash
# Installs what tuition needs on a fresh Debian machine: system libraries (as root, with
# apt-get, only when missing), a virtual environment in .venv and the project in it.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
dpkg -s libzbar0 >/dev/null 2>&1 || need+=(libzbar0)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "Installing system packages: ${need[*]}"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
        echo "Missing system packages (needed by the tests): ${need[*]}; run: sudo apt-get install ${need[*]}" >&2
    fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[${EXTRAS:-test}]"
