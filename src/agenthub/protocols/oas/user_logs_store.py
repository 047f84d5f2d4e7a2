"""Oas SQL for the logs agents upload per user (seed 000 section 4.10), read by the manager and the user."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from agenthub.protocols.oas.records import LogEntry
from agenthub.protocols.oas.tables import user_logs
from agenthub.storage.database import Database


def log_from_row(row: Any) -> LogEntry:
    m = row._mapping
    return LogEntry(
        id=m["id"],
        user_id=m["user_id"],
        node_id=m["node_id"],
        type=m["type"],
        level=m["level"],
        message=m["message"],
        ts=m["ts"],
    )


class UserLogsStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add_logs(
        self,
        *,
        user_id: int,
        manager_id: int,
        node_id: str | None,
        entries: Sequence[dict[str, Any]],
        now: datetime,
    ) -> int:
        rows = [
            {"user_id": user_id, "manager_id": manager_id, "node_id": node_id, "created_at": now, **e}
            for e in entries
        ]
        if rows:
            async with self.db.write() as conn:
                await conn.execute(user_logs.insert(), rows)
        return len(rows)

    async def logs(
        self, *, user_id: int, limit: int, offset: int, level: str | None = None
    ) -> tuple[list[LogEntry], int]:
        conditions: list[Any] = [user_logs.c.user_id == user_id]
        if level:
            conditions.append(user_logs.c.level == level)
        query = (
            sa.select(user_logs)
            .where(*conditions)
            .order_by(user_logs.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        count = sa.select(sa.func.count()).select_from(user_logs).where(*conditions)
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
            total = (await conn.execute(count)).scalar_one()
        return [log_from_row(r) for r in rows], int(total)

    async def uploaded_between(
        self, *, user_id: int, node_id: str | None, since: datetime, until: datetime, limit: int
    ) -> list[LogEntry]:
        """The user's logs a node uploaded within a time window, oldest first (the console shows those a
        job's agent uploaded while it held the job: Oas keeps logs per user, not per job)."""
        c = user_logs.c
        conditions: list[Any] = [c.user_id == user_id, c.created_at >= since, c.created_at <= until]
        if node_id is not None:
            conditions.append(c.node_id == node_id)
        query = sa.select(user_logs).where(*conditions).order_by(c.id).limit(limit)
        async with self.db.read() as conn:
            return [log_from_row(r) for r in await conn.execute(query)]
