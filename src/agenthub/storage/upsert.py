"""INSERT ... ON CONFLICT for whichever dialect is in use (both SQLite and PostgreSQL speak it)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite


def insert_for(dialect: str, table: sa.Table) -> Any:
    """An INSERT that offers on_conflict_do_nothing / on_conflict_do_update on this dialect."""
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
