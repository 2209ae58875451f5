"""A throwaway but durable PostgreSQL server for the benchmarks (fsync on, synchronous_commit on), with the few
helpers they need; the server itself is started by tests/pg_server.py in its durable mode."""
from __future__ import annotations

import psycopg

from tests.pg_server import PostgresServer, start_postgres


class DurablePostgres:
    def __init__(self, server: PostgresServer):
        self.server, self.port = server, server.port

    def dsn(self, database: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def sqlalchemy_url(self, database: str) -> str:
        return self.server.url(database)

    def _admin(self, *statements: str) -> None:
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)

    def create_database(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')

    def drop_database(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def checkpoint(self) -> None:
        self._admin("CHECKPOINT")

    def settings(self) -> dict[str, str]:
        names = ["server_version", "fsync", "synchronous_commit", "full_page_writes", "wal_sync_method",
                 "shared_buffers", "wal_level"]
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            return {n: conn.execute(f"SHOW {n}").fetchone()[0] for n in names}

    def stop(self) -> None:
        self.server.stop("fast")


def start_durable_postgres() -> DurablePostgres:
    return DurablePostgres(start_postgres(durable=True))
