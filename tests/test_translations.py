"""The English catalogue covers every Vietnamese source string, and the compiled .mo that
ships matches the .po."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "tuition" / "translations" / "en" / "LC_MESSAGES"


def _forms(value):
    """A message's id or string; plural ones (ngettext) as a tuple of their forms."""
    return value if isinstance(value, str) else tuple(value)


def _messages(catalog) -> dict:
    return {(m.context, _forms(m.id)): _forms(m.string) for m in catalog if m.id}


def _translated(message) -> bool:
    forms = [message.string] if isinstance(message.string, str) else list(message.string)
    return all(forms) and "fuzzy" not in message.flags


def test_every_source_string_is_in_the_catalogue_and_translated(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F",
                    str(ROOT / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext", "-o", str(pot),
                    str(ROOT)], check=True, cwd=ROOT, capture_output=True)
    with pot.open("rb") as handle:
        wanted = {(m.context, _forms(m.id)) for m in read_po(handle) if m.id}
    with (CATALOG / "messages.po").open("rb") as handle:
        po = read_po(handle)
    # Every form: a plural message needs its English singular and plural.
    translated = {(m.context, _forms(m.id)) for m in po if m.id and _translated(m)}
    assert wanted - translated == set(), "run bash scripts/i18n.sh and translate what it lists"


def test_compiled_catalogue_matches_the_po():
    with (CATALOG / "messages.po").open("rb") as po, (CATALOG / "messages.mo").open("rb") as mo:
        assert _messages(read_mo(mo)) == {
            k: v for k, v in _messages(read_po(po)).items() if v and all(v)}
