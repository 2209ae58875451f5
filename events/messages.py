"""The message catalogue's source: every translatable string extracted from the code and templates (Babel)."""
from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

from .i18n import DOMAIN, LOCALE_DIR

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("events", "notifications", "service")
KEYWORDS = {**DEFAULT_KEYWORDS, "phrase": None, "phrase_n": (1, 2)}
METHODS = [
    ("**/dossier.html", "ignore"),  # the dossier is written for courts in English (issue 18 leaves it out)
    ("**/templates/**.html", "jinja2.ext:babel_extract"),
    ("**/templates/**.j2", "jinja2.ext:babel_extract"),
    ("**.py", "python"),
]
OPTIONS = {"**/templates/**": {"trim_blocks": "True", "lstrip_blocks": "True"}}
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"


def extract() -> Catalog:
    """Every message in the code and templates, as the .pot template holds them (no dates, so it is stable)."""
    catalog = Catalog(project="Vigil", domain=DOMAIN, charset="utf-8", fuzzy=False)
    for package in PACKAGES:
        for filename, lineno, message, comments, context in extract_from_dir(
                REPO / package, METHODS, OPTIONS, KEYWORDS, strip_comment_tags=True):
            catalog.add(message, None, [(f"{package}/{filename}", lineno)], auto_comments=comments,
                        context=context)
    return catalog
