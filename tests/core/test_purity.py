"""The core layer stays pure: importing it must not pull in web, database or PDF libraries."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = ("flask", "sqlalchemy", "reportlab")

_SCRIPT = """
import importlib, json, pkgutil, sys

def top_level():
    return sorted({name.split(".")[0] for name in sys.modules})

import tuition
after_package = top_level()
import tuition.core.vietqr, tuition.core.words
import tuition.core
imported = []
for module in pkgutil.walk_packages(tuition.core.__path__, "tuition.core."):
    importlib.import_module(module.name)
    imported.append(module.name)
print(json.dumps({"imported": imported, "after_package": after_package, "loaded": top_level()}))
"""


def test_core_imports_no_framework() -> None:
    # A fresh interpreter: in this one, other tests may already have imported flask.
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, check=True, timeout=60
    )
    report = json.loads(result.stdout)
    assert "tuition.core.vietqr" in report["imported"]
    assert "tuition.core.words" in report["imported"]
    leaked = [name for name in FORBIDDEN if name in report["loaded"]]
    # Importing tuition.core runs tuition/__init__.py first, so name that culprit apart.
    by_package = [name for name in leaked if name in report["after_package"]]
    assert leaked == [], (
        f"importing tuition.core loaded {leaked}; "
        f"{by_package} already by tuition/__init__.py alone"
    )
