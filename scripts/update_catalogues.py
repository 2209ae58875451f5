"""Re-extract the messages into events/locales/vigil.pot and merge them into every language's .po.

Run after changing any translatable string: `.venv/bin/python scripts/update_catalogues.py`, then translate
what the .po files show as new (empty msgstr; tests/unit/test_catalogues.py fails until none is left).
English is the source language: its catalogue is filled with the messages themselves."""
from __future__ import annotations

import copy
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from events.i18n import DOMAIN, LANGUAGES, LOCALE_DIR  # noqa: E402
from events.messages import TEMPLATE, extract  # noqa: E402


def main() -> None:
    template = extract()
    with TEMPLATE.open("wb") as out:
        write_po(out, template, width=116, omit_header=False, sort_output=True)
    for lang in LANGUAGES:
        path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as source:
                catalog = read_po(source, locale=lang, domain=DOMAIN)
        else:
            from babel.messages.catalog import Catalog
            catalog = Catalog(locale=lang, domain=DOMAIN, project="Vigil")
        catalog.update(copy.deepcopy(template), no_fuzzy_matching=True)
        catalog.obsolete.clear()
        catalog.fuzzy = False
        if lang == "en":
            for message in catalog:
                if message.id:
                    message.string = message.id
        with path.open("wb") as out:
            write_po(out, catalog, width=116, sort_output=True, ignore_obsolete=True)
        missing = sum(1 for m in catalog if m.id and not (all(m.string) if isinstance(m.string, tuple)
                                                          else m.string))
        print(f"{lang}: {len(catalog)} messages, {missing} to translate")


if __name__ == "__main__":
    main()
