"""Whether a database is already at the latest migration, told without importing Alembic (about 8 MiB that a
running server would otherwise keep for a check that almost always finds nothing to do)."""
from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

VERSIONS_DIR = Path(__file__).resolve().parent.parent / "alembic" / "versions"
_ASSIGNED = re.compile(r'^(revision|down_revision)\s*=\s*(None|"[^"]*"|\'[^\']*\')\s*$', re.MULTILINE)


def head_revision(versions: Path = VERSIONS_DIR) -> str | None:
    """The one revision no other migration revises, read from the files' plain `revision = "..."` and
    `down_revision = "..."` lines; None whenever that reading is not certain (a file it cannot read so, a merge,
    several heads), so the caller asks Alembic instead."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in versions.glob("*.py"):
        if path.name.startswith((".#", "__init__")):
            continue  # what Alembic itself skips: editor lock files, the package marker
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None  # a file this reading cannot open: Alembic decides
        found = dict((name, value.strip("\"'") if value != "None" else None)
                     for name, value in _ASSIGNED.findall(source))
        if not found.get("revision") or "down_revision" not in found:
            return None
        revisions.add(found["revision"])
        if found["down_revision"] is not None:
            revised.add(found["down_revision"])
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 and revised <= revisions else None


def at_head(engine: Engine, versions: Path = VERSIONS_DIR) -> bool:
    """True only when the database records exactly the latest revision; any doubt (no version table, an unreadable
    migration file) answers False, and the caller runs Alembic, which settles it."""
    head = head_revision(versions)
    if head is None:
        return False
    try:
        with engine.connect() as conn:
            current = [row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))]
    except DBAPIError:  # no version table yet: a new database
        return False
    return current == [head]
