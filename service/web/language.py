"""The dashboard's language: the reader's choice (a cookie), else their browser's Accept-Language; Jinja2's words."""
from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from jinja2 import Environment, pass_context

from events.risk import LEVEL_WORDS
from notifications.message import SEVERITY_WORDS
from events.i18n import DEFAULT, Phrase, language, negotiate, render, translations, words_of

from ..access import ROLE_WORDS

COOKIE = "vigil_lang"  # not personal, not secret: the language only


def request_language(request: Request) -> str:
    chosen = request.cookies.get(COOKIE)
    if chosen and language(chosen) == chosen:
        return chosen
    return negotiate(request.headers.get("accept-language"))


def _lang(context) -> str:
    return language(context.get("lang") or DEFAULT)


@pass_context
def _gettext(context, message: str) -> str:
    return translations(_lang(context)).gettext(message)


@pass_context
def _pgettext(context, msgctxt: str, message: str) -> str:
    return translations(_lang(context)).pgettext(msgctxt, message)


@pass_context
def _ngettext(context, singular: str, plural: str, n: int) -> str:
    return translations(_lang(context)).ngettext(singular, plural, n)


@pass_context
def _finalize(context, value: Any) -> Any:
    """Any phrase a page shows (a risk reason, a form error, a status) is said in the page's language."""
    value = words_of(value)
    return render(value, _lang(context)) if isinstance(value, Phrase) else value


@pass_context
def _say(context, value: Any) -> str:
    value = words_of(value)
    return render(value, _lang(context)) if isinstance(value, Phrase) else ("" if value is None else str(value))


def countdown_words(lang: str) -> str:
    """The countdown's words for vigil.js, which keeps them current on a page left open (JSON)."""
    tr = translations(language(lang))
    units = {"min": tr.ngettext("%(n)s min", "%(n)s min", 5), "h": tr.ngettext("%(n)s h", "%(n)s h", 5),
             "d": tr.ngettext("%(n)s d", "%(n)s d", 5)}
    out = {key: text % {"n": "{n}"} for key, text in units.items()}
    out.update({"in": tr.gettext("in %(amount)s") % {"amount": "{a}"},
                "ago": tr.gettext("%(amount)s ago") % {"amount": "{a}"}})
    return json.dumps(out, ensure_ascii=False)


def localized(function):
    """A formatting filter given the page's language as its `lang`."""
    @pass_context
    def filter_(context, *args: Any) -> Any:
        return function(*args, lang=_lang(context))
    return filter_


def install(env: Environment) -> None:
    """Jinja2's i18n extension with gettext reading each page's `lang`; `| say` for phrases inside expressions."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True, pgettext=_pgettext)
    env.finalize = _finalize
    env.filters["say"] = _say
    env.filters["risk_level"] = _risk_level
    env.filters["role_name"] = _role_name


@pass_context
def _risk_level(context, level: str) -> str:
    return render(LEVELS_AND_SEVERITIES.get(level, level), _lang(context))


@pass_context
def _role_name(context, role: str) -> str:
    """A role as the page's language names it (the API keeps 'admin', 'editor', 'viewer')."""
    return render(ROLE_WORDS.get(role, role), _lang(context))


LEVELS_AND_SEVERITIES = {**SEVERITY_WORDS, **LEVEL_WORDS}  # badges show either
