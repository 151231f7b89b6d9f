"""Fill English translations into the catalogue from a JSON table {Vietnamese: English}.

Usage: .venv/bin/python scripts/i18n/fill.py table.json [more.json ...] (later tables win)
A plural entry (ngettext) takes a list:
{"%(num)d học sinh": ["%(num)d student", "%(num)d students"]}.
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
        plural = not isinstance(message.id, str)
        if key in table:
            # Plural entries take a list [one, other] in the table.
            value = table[key]
            message.string = tuple(value) if plural and isinstance(value, list) else value
            message.flags.discard("fuzzy")
        elif (not message.string or "fuzzy" in message.flags
              or (plural and not all(message.string))):
            # pybabel's fuzzy guesses are often wrong ("Phải nộp" -> "Reminders"): drop them.
            message.string = ""
            message.flags.discard("fuzzy")
            missing.append(key)
    with open(PATH, "wb") as handle:
        write_po(handle, catalog, width=100)
    print("missing:", missing)


if __name__ == "__main__":
    main()
