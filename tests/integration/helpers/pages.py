"""Dashboard test helpers: the CSRF token a page's form carries."""
from __future__ import annotations

import re


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
