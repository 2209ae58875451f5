"""Name keys: a name reduced to spelling-independent keys (script, diacritics, transliteration variants) for search."""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable

from anyascii import anyascii

# Apostrophe look-alikes: Uzbek Latin writes o' and g' with any of them (o‘, oʻ, o’, o`).
APOSTROPHES = str.maketrans({c: "'" for c in "‘’ʻʼ`´′ʹ"})
# Letters read two ways: stripped of their mark (Sukru for Şükrü) or as the digraph another spelling uses
# (Shukru, as the same name comes through Russian). Both readings are keys, so either spelling finds the other.
DIGRAPHS = str.maketrans({"ş": "sh", "ș": "sh", "š": "sh", "ç": "ch", "č": "ch", "ž": "zh"})
# Before anyascii, which reads Azerbaijani ə as e (Əliyev is Aliyev in English) and keeps Cyrillic soft and hard
# signs as apostrophes (they carry no sound worth a key).
BEFORE = str.maketrans({"ə": "a", "ь": "", "ъ": ""})

# Each step is (pattern, replacement), applied in order to a lower-case ASCII name part.
STEPS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), r) for p, r in (
    (r"tsch", "ch"), (r"shch", "sh"), (r"sch", "sh"), (r"tch", "ch"),  # Щ, German and French Ч
    (r"dzh|dj|zh", "j"),                       # Ж, ДЖ: Zhuraev, Dzhuraev, Djuraev, Juraev (Uzbek j)
    (r"kh|x", "h"),                            # Х: Akhmedov, Ahmedov, Axmedov (Uzbek x)
    (r"gh", "g"), (r"q", "k"), (r"ck", "k"), (r"ph", "f"), (r"w", "v"),
    (r"ts|tz", "c"),                           # Ц: Tsoy, Coi
    (r"oo|ou", "u"),                           # French and English U: Youssoupov, Khoudairamov
    (r"[yj]o", "e"),                           # Ё: Fyodorov, Fjodorow, Fedorov
    (r"[yj]", "i"),                            # Й, and the Y/I/J of Ю, Я, Е: Yusupov, Iusupov, Jusupov
    (r"(.)\1+", r"\1"),                        # double letters: Abdullaev, Abdulaev
    (r"ie", "e"),                              # Е after a vowel or soft sign: Aliyev, Aliev; Yergali, Ergali
    (r"(?<=[oe])f$", "v"),                     # -off, -eff: Akhmedoff
    (r"(.)\1+", r"\1"),
))


def reduce_part(part: str) -> str:
    """One lower-case ASCII name part reduced to its key (Akhmedov, Ahmedov and Axmedov all give 'ahmedov')."""
    for pattern, replacement in STEPS:
        part = pattern.sub(replacement, part)
    return part


def _strip_marks(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def readings(name: str) -> list[list[str]]:
    """The name's parts in Latin letters, once per reading of its ambiguous letters (one reading if it has none)."""
    text = unicodedata.normalize("NFC", name).casefold().translate(APOSTROPHES).translate(BEFORE)
    out: list[list[str]] = []
    for reading, text in enumerate((text, text.translate(DIGRAPHS))):
        latin = anyascii(_strip_marks(text)).lower()
        # Uzbek o' is Cyrillic ў, which Russian spellings write u (Jo'rayev, Dzhuraev); g' is ғ, a g.
        latin = latin.replace("o'", "u" if reading else "o")
        parts = [p.replace("'", "") for p in re.split(r"[^a-z']+", latin)]
        parts = [p for p in parts if p]
        if parts and parts not in out:
            out.append(parts)
    return out


def name_keys(names: Iterable[str]) -> set[str]:
    """Every key a person is found by: each part of each name or alias, each two adjacent parts written together
    (Abdul Rahman, Abdulrahman) and the whole name written together."""
    keys: set[str] = set()
    for name in names:
        for parts in readings(name):
            keys.update(reduce_part(p) for p in parts)
            keys.update(reduce_part(a + b) for a, b in zip(parts, parts[1:]))
            keys.add(reduce_part("".join(parts)))
    keys.discard("")
    return keys


def query_keys(query: str) -> tuple[list[set[str]], set[str]]:
    """What a search term asks for: for each of its parts, the keys any one of which must be found, and the keys
    of the whole term written together (a case whose keys hold one of them is found too)."""
    alternatives = readings(query)
    if not alternatives:
        return [], set()
    # The readings differ only inside parts, never in how many parts there are.
    per_part = [{reduce_part(r[i]) for r in alternatives} - {""} for i in range(len(alternatives[0]))]
    whole = {reduce_part("".join(r)) for r in alternatives} - {""}
    # An initial ("I. Akhmedov") asks nothing the other parts do not, and a recorded full first name has no key
    # for it: only a term made of initials alone must match them.
    longer = [keys for keys in per_part if keys and any(len(k) > 1 for k in keys)]
    return longer or [keys for keys in per_part if keys], whole


def person_names(person: dict) -> list[str]:
    """The name and aliases of a person record (as sealed in CaseOpened and merged from later updates)."""
    return [n for n in [person.get("name"), *(person.get("aliases") or [])] if isinstance(n, str) and n.strip()]
