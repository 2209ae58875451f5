"""Free text: which control characters a field may hold, and a one-line form for titles and subjects; pure."""
from __future__ import annotations

import re

# C0, DEL and C1 controls, and the Unicode line and paragraph separators: none belongs in one line of text.
_NOT_IN_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Multi-line text keeps line feeds and tabs; carriage returns are turned into line feeds before this is checked.
_NOT_IN_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def single_line(text: str) -> str:
    """A validator: one line, no control characters (email subjects, chat titles and headers are built from it)."""
    if _NOT_IN_ONE_LINE.search(text):
        raise ValueError("must be a single line without control characters")
    return text


def multi_line(text: str) -> str:
    """A validator: line breaks (as \\n) and tabs allowed, no other control characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # what a browser's textarea sends
    if _NOT_IN_LINES.search(text):
        raise ValueError("must not contain control characters other than line breaks and tabs")
    return text


def one_line(text: str) -> str:
    """Text made safe for a title or a header: each run of control characters or line breaks becomes one space."""
    return _BREAKS.sub(" ", text).strip()
