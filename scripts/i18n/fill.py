"""Fill English translations into the catalogue from a JSON table {Vietnamese: English}.

A message with a plural form (ngettext) takes a list: {"%(num)d học sinh": ["%(num)d student",
"%(num)d students"]}; Vietnamese has one form, English two. A message with a context
(pgettext) is keyed "context|Vietnamese": {"one student|Học sinh": "Student"}.

Usage: .venv/bin/python scripts/i18n/fill.py table.json [more.json ...] (later tables win)
Prints the source strings that still have no translation.
"""

import json
import sys

from babel.messages.pofile import read_po, write_po

PATH = "tuition/translations/en/LC_MESSAGES/messages.po"


def main() -> None:
    table: dict[str, str] = {}
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as handle:
            table.update(json.load(handle))
    with open(PATH, "rb") as handle:
        catalog = read_po(handle, locale="en")
    missing = []
    for message in catalog:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        if message.context:
            key = f"{message.context}|{key}"
        translated = message.string if isinstance(message.string, str) else all(message.string)
        if key in table:
            value = table[key]
            if isinstance(message.id, tuple):
                forms = [value] * 2 if isinstance(value, str) else value
                message.string = tuple(forms)
            else:
                message.string = value
            message.flags.discard("fuzzy")
        elif not translated or "fuzzy" in message.flags:
            # pybabel's fuzzy guesses are often wrong ("Phải nộp" -> "Reminders"): drop them.
            message.string = ("", "") if isinstance(message.id, tuple) else ""
            message.flags.discard("fuzzy")
            missing.append(key)
    with open(PATH, "wb") as handle:
        write_po(handle, catalog, width=100)
    print("missing:", missing)


if __name__ == "__main__":
    main()
