"""Every catalogue has every message of the code and templates, translated, with the same placeholders."""
from __future__ import annotations

import re

import pytest
from babel.messages.checkers import num_plurals, python_format
from babel.messages.pofile import read_po

from events.i18n import LANGUAGES, catalogue_path, render, translations
from events.messages import TEMPLATE, extract

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _ids(catalog) -> set:
    return {m.id for m in catalog if m.id}


def test_the_template_holds_every_message_the_code_and_templates_use():
    with TEMPLATE.open("rb") as source:
        stored = read_po(source)
    assert _ids(extract()) == _ids(stored), "run scripts/update_catalogues.py and translate what is new"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_catalogue_is_complete_with_the_same_placeholders(lang):
    with TEMPLATE.open("rb") as source:
        template = read_po(source)
    with catalogue_path(lang).open("rb") as source:
        catalog = read_po(source, locale=lang)
    assert not catalog.fuzzy
    problems = []
    for expected in template:
        if not expected.id:
            continue
        message = catalog.get(expected.id, expected.context)  # a msgctxt (pgettext) tells apart words spelled alike
        if message is None:
            problems.append(f"missing: {expected.id!r}")
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings) or message.fuzzy:
            problems.append(f"untranslated: {expected.id!r}")
            continue
        for checker in (num_plurals, python_format):
            try:
                checker(catalog, message)
            except Exception as exc:  # babel's TranslationError names the broken placeholder
                problems.append(f"{expected.id!r}: {exc}")
        ids = expected.id if isinstance(expected.id, tuple) else (expected.id,)
        wanted = set(PLACEHOLDER.findall(ids[-1])) | ({"n"} if isinstance(expected.id, tuple) else set())
        for string in strings:
            if set(PLACEHOLDER.findall(string)) - wanted or (not isinstance(expected.id, tuple) and
                                                              set(PLACEHOLDER.findall(string)) != wanted):
                problems.append(f"{expected.id!r}: placeholders differ in {string!r}")
    assert problems == []


def test_a_broken_placeholder_is_caught(tmp_path):
    """The checker the test relies on refuses a renamed placeholder."""
    from babel.messages.catalog import Catalog, TranslationError
    catalog = Catalog(locale="fr")
    message = catalog.add("Resettled in %(country)s", "Réinstallé·e en %(pays)s", flags=["python-format"])
    with pytest.raises(TranslationError):
        python_format(catalog, message)


def test_languages_render_their_own_words_and_english_stays_english():
    from events.i18n import phrase
    words = phrase("Resettled in %(country)s", country="CA")
    assert render(words) == "Resettled in CA"
    assert render(words, "fr") == "Réinstallé·e en CA"
    assert render(words, "ru") == "Переселён(а) в CA"
    assert translations("tr").gettext("Cases") == "Dosyalar"
