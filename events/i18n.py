"""Languages: gettext catalogues read from their .po files, phrases kept as data until shown, Babel formatting."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.core import negotiate_locale
from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from .timewords import calendar_date

DOMAIN = "vigil"
DEFAULT = "en"
LANGUAGES = ("en", "ru", "fr", "tr")  # complete catalogues shipped with Vigil; a subscription may choose these
NAMES = {"en": "English", "ru": "Русский", "fr": "Français", "tr": "Türkçe"}  # each in its own language
LOCALE_DIR = Path(__file__).resolve().parent / "locales"
_extra: dict[str, Path] = {}  # more catalogues an operator added (VIGIL_LOCALES_DIR): shown in the dashboard only


def add_catalogues(directory: Path) -> list[str]:
    """Offer every <lang>/LC_MESSAGES/vigil.po under `directory` in the dashboard too; returns their codes."""
    found = []
    for po in sorted(Path(directory).glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        lang = po.parent.parent.name
        if lang not in LANGUAGES and _known(lang):
            _extra[lang] = po
            found.append(lang)
    translations.cache_clear()
    return found


def _known(lang: str) -> bool:
    try:
        Locale.parse(lang)
    except (UnknownLocaleError, ValueError):
        return False
    return True


def offered() -> list[str]:
    """The dashboard's languages: Vigil's own, then any an operator added."""
    return [*LANGUAGES, *_extra]


def catalogue_path(lang: str) -> Path:
    return _extra.get(lang) or LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=None)
def translations(lang: str) -> NullTranslations:
    """One language's messages, compiled in memory from its .po (no binary .mo files to build or keep)."""
    if lang not in offered():
        lang = DEFAULT
    with catalogue_path(lang).open("rb") as source:
        catalog = read_po(source, locale=lang, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def language(lang: str | None) -> str:
    return lang if lang in offered() else DEFAULT


def direction(lang: str) -> str:
    """'rtl' or 'ltr', as the language is written (Babel's locale data)."""
    return "rtl" if Locale.parse(language(lang)).text_direction == "rtl" else "ltr"


def negotiate(accept_language: str | None) -> str:
    """The best of the offered languages for an Accept-Language header ('ru-RU,ru;q=0.9,en;q=0.8' -> 'ru')."""
    wanted = []
    for part in (accept_language or "").split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        try:
            q = float(params.strip()[2:]) if params.strip().startswith("q=") else 1.0
        except ValueError:
            q = 0.0
        if tag and q > 0:
            wanted.append((q, tag.strip().replace("_", "-")))
    ordered = [tag for _, tag in sorted(wanted, key=lambda w: -w[0])]
    return negotiate_locale(ordered, offered(), sep="-") or DEFAULT


# ---- phrases: a message and its values, translated only when shown ----

@dataclass(frozen=True)
class Phrase:
    """A message id with its values; values may be phrases themselves, moments, dates, numbers or lists."""
    msgid: str
    args: tuple[tuple[str, Any], ...] = ()
    plural: str | None = None
    n: int | None = None

    def __str__(self) -> str:
        return render(self)


class Said(str):
    """A phrase said in English (what the API gives and tests compare) that keeps the phrase, so a page can say it
    in its reader's language."""
    phrase: Phrase

    def __new__(cls, words: Phrase, english: str | None = None) -> "Said":
        text = super().__new__(cls, render(words) if english is None else english)
        text.phrase = words
        return text


def stored_title(title: str, stored_phrase: str | None) -> str:
    """An alert's stored English title, carrying its phrase when it has one (alerts raised since 0016)."""
    words = from_json(stored_phrase)
    return Said(words, title) if words is not None else title


def words_of(value: Any) -> Any:
    """The phrase behind a value, if it has one."""
    return value.phrase if isinstance(value, Said) else value


@dataclass(frozen=True)
class Moment:
    """An exact time: in the case's zone first, UTC beside it."""
    at: datetime
    zone: str | None = None


@dataclass(frozen=True)
class Day:
    """A date at its precision: 'day', 'month' or 'year'; 'iso' (en: '2023-11-15'), 'month-year' ('June 2011') and
    'month-of', the month as a sentence's context needs it (Russian's genitive: 'с декабря 2023')."""
    at: datetime
    precision: str = "iso"


def phrase(msgid: str, **args: Any) -> Phrase:
    return Phrase(msgid, tuple(args.items()))


def phrase_n(singular: str, plural: str, n: int, **args: Any) -> Phrase:
    """A message that agrees with a count; `n` is also given to it as %(n)s."""
    return Phrase(singular, tuple({"n": n, **args}.items()), plural, n)


def render(value: Any, lang: str = DEFAULT) -> str:
    """Any phrase value as text in `lang`; English is the default and reads as Vigil always has."""
    if isinstance(value, Phrase):
        tr = translations(language(lang))
        text = tr.ngettext(value.msgid, value.plural, value.n) if value.plural else tr.gettext(value.msgid)
        return text % {k: render(v, lang) for k, v in value.args} if value.args else text
    if isinstance(value, Moment):
        return local_and_utc(value.at, value.zone, lang)
    if isinstance(value, Day):
        return day_words(value.at, value.precision, lang)
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return format_decimal(value, locale=_babel(lang)) if language(lang) != DEFAULT else str(value)
    if isinstance(value, (list, tuple)):
        return "; ".join(render(v, lang) for v in value)
    return str(value)


def _babel(lang: str) -> str:
    return language(lang)


def local_and_utc(moment: datetime, zone: str | None, lang: str = DEFAULT) -> str:
    """The case's local time first, UTC beside it: '2026-12-03 06:30 CET (Europe/Paris; 05:30 UTC)' in English,
    the language's own date and time words otherwise ('3 déc. 2026, 06:30 CET (Europe/Paris; 05:30 UTC)')."""
    if language(lang) == DEFAULT:
        from .reminders import local_and_utc as english
        return english(moment, zone)
    loc = _babel(lang)
    utc = moment.astimezone(timezone.utc)
    if not zone or zone == "UTC":
        return f"{format_date(utc.date(), 'medium', locale=loc)}, {format_time(utc, 'HH:mm', locale=loc)} UTC"
    local = moment.astimezone(ZoneInfo(zone))
    same_day = utc.date() == local.date()
    beside = f"{format_time(utc, 'HH:mm', locale=loc)} UTC" if same_day else \
        f"{format_date(utc.date(), 'medium', locale=loc)}, {format_time(utc, 'HH:mm', locale=loc)} UTC"
    return (f"{format_date(local.date(), 'medium', locale=loc)}, {format_time(local, 'HH:mm', locale=loc)} "
            f"{local.tzname()} ({zone}; {beside})")


def day_words(moment: datetime, precision: str, lang: str = DEFAULT) -> str:
    """A date: ISO ('iso', English keeps it), or to the day, month or year in the language's words."""
    if language(lang) == DEFAULT:
        if precision == "iso":
            return moment.astimezone(timezone.utc).strftime("%Y-%m-%d") if moment.tzinfo else moment.strftime(
                "%Y-%m-%d")
        if precision in ("month-year", "month-of"):
            return calendar_date(moment, "month")
        return calendar_date(moment, precision)
    day = moment.astimezone(timezone.utc).date() if moment.tzinfo else moment.date()
    loc = _babel(lang)
    if precision == "year":
        return str(day.year)
    if precision in ("month", "month-year"):
        return format_date(day, "LLLL y", locale=loc)  # standalone: "сентябрь 2023"
    if precision == "month-of":
        return format_date(day, "MMMM y", locale=loc)  # in a sentence's context: "с декабря 2023"
    return format_date(day, "medium", locale=loc)


def when_text(moment: datetime, tz: str | None, lang: str) -> str:
    """A moment in the viewer's zone for the dashboard, in the language's own format."""
    local = moment.astimezone(ZoneInfo(tz or "UTC"))
    return f"{format_datetime(local, 'short', tzinfo=local.tzinfo, locale=_babel(lang))} {local.tzname() or ''}"


# ---- phrases as stored data (an alert's title in every language, long after it was raised) ----

def to_json(value: Phrase) -> str:
    return json.dumps(_dump(value), ensure_ascii=False, separators=(",", ":"))


def _dump(value: Any) -> Any:
    if isinstance(value, Phrase):
        out: dict[str, Any] = {"m": value.msgid, "a": {k: _dump(v) for k, v in value.args}}
        if value.plural:
            out.update(p=value.plural, n=value.n)
        return out
    if isinstance(value, Moment):
        return {"t": value.at.isoformat(), "z": value.zone}
    if isinstance(value, Day):
        return {"d": value.at.isoformat(), "p": value.precision}
    if isinstance(value, (list, tuple)):
        return {"l": [_dump(v) for v in value]}
    return value


def from_json(text: str | None) -> Phrase | None:
    """A stored phrase, or None for none (alerts raised before phrases were stored) or one that cannot be read."""
    if not text:
        return None
    try:
        value = _load(json.loads(text))
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    return value if isinstance(value, Phrase) else None


def _load(value: Any) -> Any:
    if isinstance(value, dict):
        if "m" in value:
            return Phrase(str(value["m"]), tuple((k, _load(v)) for k, v in value["a"].items()),
                          value.get("p"), value.get("n"))
        if "t" in value:
            return Moment(datetime.fromisoformat(value["t"]), value.get("z"))
        if "d" in value:
            return Day(datetime.fromisoformat(value["d"]), value.get("p", "iso"))
        if "l" in value:
            return [_load(v) for v in value["l"]]
    return value


def translated(value: Phrase | None, fallback: str, lang: str) -> str:
    """A stored phrase in `lang`; the stored English text when there is no phrase, or it cannot be shown."""
    if value is None or language(lang) == DEFAULT:
        return fallback
    try:
        return render(value, lang)
    except (KeyError, ValueError, TypeError):  # a catalogue's placeholder the phrase lacks: English, not a failure
        return fallback
