"""Migrations and the tables in code agree, on both dialects; migrating twice is harmless."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from agenthub.schema import project_schema
from agenthub.storage import Database
from agenthub.storage.migrate import is_current, migrate

# SQLAlchemy cannot reflect expression indexes (priority DESC) on every dialect: they are checked by name.
EXPRESSION_INDEXES = {"ix_jobs_queue"}


def _include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (type_ == "index" and name in EXPRESSION_INDEXES)


async def test_migrations_match_the_metadata(database_url: str) -> None:
    db = Database(database_url)
    try:
        schema = project_schema()
        await migrate(db, schema)
        assert await is_current(db, schema)

        def diff(connection: Any) -> list[Any]:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": _include}
            )
            return list(compare_metadata(context, schema.metadata))

        async with db.engine.connect() as conn:
            assert await conn.run_sync(diff) == []
            index_names = await conn.run_sync(
                lambda c: {i["name"] for i in __import__("sqlalchemy").inspect(c).get_indexes("jobs")}
            )
        assert index_names >= EXPRESSION_INDEXES
    finally:
        await db.dispose()
