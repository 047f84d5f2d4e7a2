"""Alembic environment: always run with a connection handed over by agenthub.storage.migrate."""

from __future__ import annotations

from alembic import context

from agenthub.schema import load_metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("agenthub migrations run through agenthub.storage.migrate, with a connection")

context.configure(
    connection=connection,
    target_metadata=load_metadata(),
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
