"""Alembic environment: the schema comes only from these migrations."""
from alembic import context

from events.engine import make_engine
import evidence.tables  # noqa: F401 - registers the log signing tables on the metadata
import notifications.tables  # noqa: F401 - registers the alerting tables on the metadata
from events.tables import metadata

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
