"""Alembic environment: always run with the connection and MetaData handed over by storage.migrate."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
metadata = context.config.attributes.get("metadata")
if connection is None or metadata is None:
    raise RuntimeError("agenthub migrations run through agenthub.storage.migrate, with a connection")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
