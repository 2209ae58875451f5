"""Tables of the transparency log's signing side: the log key, every checkpoint it signed, witnesses' cosignatures."""
from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table, Text

from events.tables import UTCDateTime, metadata

log_keys = Table(
    "log_keys", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # 1: the log has one key
    Column("verifier_key", String(300), nullable=False),
    Column("sealed_signer", Text, nullable=False),  # the Go `note` signer key text, sealed under the master key
    Column("created_at", UTCDateTime, nullable=False),
)

checkpoints = Table(
    "checkpoints", metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("root_hash", String(44), nullable=False),  # base64, as in the note
    Column("note", Text, nullable=False),  # the signed note, the log's signature only
    Column("signed_at", UTCDateTime, nullable=False),
)

cosignatures = Table(
    "cosignatures", metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("witness", String(300), primary_key=True),  # the witness's verifier key
    Column("line", Text, nullable=False),  # its signature line, as the witness answered it
    Column("received_at", UTCDateTime, nullable=False),
)
