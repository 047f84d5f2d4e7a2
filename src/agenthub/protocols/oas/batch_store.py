"""Changes to many users (or managers) at once. A batch is all or nothing: when it names a user that is not
the manager's (or an unknown one), it changes none of them (checked in the same transaction)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from agenthub.protocols.oas.tables import managers, user_logs, users
from agenthub.storage.database import Database


class NotAllOwned(Exception):
    """The batch names ids that are not the caller's (or do not exist); `missing` lists them."""

    def __init__(self, missing: list[int], noun: str = "用户不存在") -> None:
        super().__init__(f"{noun}: {missing}")
        self.missing = missing
        self.noun = noun


class BatchStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def update_users(
        self,
        *,
        manager_id: int,
        user_ids: list[int],
        now: datetime,
        values: Callable[[Any], dict[str, Any]],
    ) -> list[int]:
        """`values(row)` -> the columns to set on that user."""
        ids = sorted(set(user_ids))
        async with self.db.write() as conn:
            rows = (
                await conn.execute(
                    sa.select(users)
                    .where(users.c.id.in_(ids), users.c.manager_id == manager_id)
                    .with_for_update()
                )
            ).all()
            _all_there(ids, {r.id for r in rows})
            for row in rows:
                await conn.execute(
                    users.update().where(users.c.id == row.id).values(updated_at=now, **values(row))
                )
        return ids

    async def delete_users(self, *, manager_id: int, user_ids: list[int]) -> list[int]:
        ids = sorted(set(user_ids))
        async with self.db.write() as conn:
            owned = set(
                (
                    await conn.execute(
                        sa.select(users.c.id).where(users.c.id.in_(ids), users.c.manager_id == manager_id)
                    )
                ).scalars()
            )
            _all_there(ids, owned)
            await conn.execute(users.delete().where(users.c.id.in_(ids), users.c.manager_id == manager_id))
        return ids

    async def delete_logs(self, *, user_id: int) -> int:
        async with self.db.write() as conn:
            return int(
                (await conn.execute(user_logs.delete().where(user_logs.c.user_id == user_id))).rowcount
            )

    async def update_managers(
        self, *, manager_ids: list[int], now: datetime, values: Callable[[Any], dict[str, Any]]
    ) -> list[int]:
        ids = sorted(set(manager_ids))
        async with self.db.write() as conn:
            rows = (
                await conn.execute(sa.select(managers).where(managers.c.id.in_(ids)).with_for_update())
            ).all()
            _all_there(ids, {r.id for r in rows}, noun="管理员不存在")
            for row in rows:
                await conn.execute(
                    managers.update().where(managers.c.id == row.id).values(updated_at=now, **values(row))
                )
        return ids


def _all_there(ids: list[int], found: set[int], noun: str = "用户不存在") -> None:
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotAllOwned(missing, noun)
