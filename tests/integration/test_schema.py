"""The schema comes only from migrations, and the table definitions the code uses match them."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import notifications.tables  # noqa: F401
from events.tables import metadata


def test_models_and_migrations_do_not_drift(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_migrations_are_at_head(engine):
    from alembic.script import ScriptDirectory

    from events.migrations import alembic_config

    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    assert current == head
