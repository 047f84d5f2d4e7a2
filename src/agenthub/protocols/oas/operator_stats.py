"""Reads across users for the operators' lists: user counts per manager, and users' labels for job rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from agenthub.protocols.oas.tables import users
from agenthub.storage.database import Database


class OperatorStats:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def user_counts_by_manager(self, *, now: datetime) -> dict[int, dict[str, int]]:
        expired = sa.or_(users.c.expires_at.is_(None), users.c.expires_at <= now, users.c.status == "expired")
        query = sa.select(
            users.c.manager_id,
            sa.func.count(),
            sa.func.count().filter(sa.and_(users.c.status == "active", sa.not_(expired))),
            sa.func.count().filter(expired),
        ).group_by(users.c.manager_id)
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return {
            manager_id: {"total_users": total, "active_users": active, "expired_users": expired_n}
            for manager_id, total, active, expired_n in rows
        }

    async def user_type_counts(self, *, manager_id: int) -> dict[str, int]:
        query = (
            sa.select(users.c.user_type, sa.func.count())
            .where(users.c.manager_id == manager_id)
            .group_by(users.c.user_type)
        )
        async with self.db.read() as conn:
            return {user_type: n for user_type, n in await conn.execute(query)}

    async def user_labels(self, user_ids: set[int]) -> dict[int, dict[str, Any]]:
        if not user_ids:
            return {}
        query = sa.select(users.c.id, users.c.login_id, users.c.user_type, users.c.account_no).where(
            users.c.id.in_(user_ids)
        )
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return {
            r.id: {"login_id": r.login_id, "user_type": r.user_type, "account_no": r.account_no} for r in rows
        }
