"""Oas SQL for operations: schedulable users, locked task-config writes, duiyi answers, overview counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from agenthub.core.jobs import ACTIVE_STATUSES
from agenthub.protocols.oas.records import User
from agenthub.protocols.oas.repository import _user
from agenthub.protocols.oas.tables import duiyi_answers, managers, users
from agenthub.storage.database import Database
from agenthub.storage.tables import jobs
from agenthub.storage.upsert import insert_for

ConfigChange = Callable[[User], dict[str, Any]]  # the user as stored -> the new stored task_config


class VersionMismatch(Exception):
    def __init__(self, current: int) -> None:
        super().__init__(f"task_config is at version {current}")
        self.current = current


class OpsStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- scheduler --------------------------------------------------------------------------------------

    async def schedulable_users(self, *, now: datetime) -> list[User]:
        """Active, unexpired users of active, unexpired managers."""
        query = (
            sa.select(users)
            .join(managers, managers.c.id == users.c.manager_id)
            .where(
                users.c.status == "active",
                users.c.expires_at > now,
                managers.c.expires_at > now,
            )
            .order_by(users.c.id)
        )
        async with self.db.read() as conn:
            return [_user(row) for row in await conn.execute(query)]

    async def busy_tasks(self, *, kind: str) -> set[tuple[int, str]]:
        """(user, task) pairs that have a pending, leased or running job."""
        query = (
            sa.select(jobs.c.subject_id, jobs.c.type)
            .where(jobs.c.kind == kind, jobs.c.status.in_([s.value for s in ACTIVE_STATUSES]))
            .distinct()
        )
        async with self.db.read() as conn:
            return {(row.subject_id, row.type) for row in await conn.execute(query)}

    # -- task config ------------------------------------------------------------------------------------

    async def change_task_config(
        self,
        *,
        user_id: int,
        change: ConfigChange,
        now: datetime,
        manager_id: int | None = None,
        expected_version: int | None = None,
        conn: AsyncConnection | None = None,
    ) -> User | None:
        """Read-modify-write of a user's task_config under a row lock; the version goes up by one."""
        if conn is not None:
            return await self._change(conn, user_id, change, now, manager_id, expected_version)
        async with self.db.write() as own:
            return await self._change(own, user_id, change, now, manager_id, expected_version)

    async def _change(
        self,
        conn: AsyncConnection,
        user_id: int,
        change: ConfigChange,
        now: datetime,
        manager_id: int | None,
        expected_version: int | None,
    ) -> User | None:
        query = sa.select(users).where(users.c.id == user_id)
        if manager_id is not None:
            query = query.where(users.c.manager_id == manager_id)
        if not self.db.is_sqlite:  # SQLite's write transaction already excludes other writers
            query = query.with_for_update()
        row = (await conn.execute(query)).first()
        if row is None:
            return None
        user = _user(row)
        if expected_version is not None and expected_version != user.task_config_version:
            raise VersionMismatch(user.task_config_version)
        stmt = (
            users.update()
            .where(users.c.id == user_id)
            .values(
                task_config=change(user),
                task_config_version=users.c.task_config_version + 1,
                updated_at=now,
            )
            .returning(*users.c)
        )
        return _user((await conn.execute(stmt)).one())

    # -- users ------------------------------------------------------------------------------------------

    async def delete_user(self, *, user_id: int, manager_id: int) -> bool:
        stmt = users.delete().where(users.c.id == user_id, users.c.manager_id == manager_id)
        async with self.db.write() as conn:
            deleted = (await conn.execute(stmt)).rowcount
        return bool(deleted)

    async def user_counts(self, *, manager_id: int, now: datetime) -> dict[str, int]:
        expired = sa.or_(users.c.expires_at.is_(None), users.c.expires_at <= now)
        query = sa.select(
            sa.func.count(),
            sa.func.count().filter(sa.and_(users.c.status == "active", sa.not_(expired))),
            sa.func.count().filter(sa.or_(users.c.status == "expired", expired)),
            sa.func.count().filter(users.c.status == "disabled"),
        ).where(users.c.manager_id == manager_id)
        async with self.db.read() as conn:
            total, active, expired_n, disabled = (await conn.execute(query)).one()
        return {"total": total, "active": active, "expired": expired_n, "disabled": disabled}

    # -- duiyi answers ----------------------------------------------------------------------------------

    async def duiyi_answers(self, *, manager_id: int, day: str) -> dict[str, str]:
        query = sa.select(duiyi_answers.c.answers).where(
            duiyi_answers.c.manager_id == manager_id, duiyi_answers.c.day == day
        )
        async with self.db.read() as conn:
            found = (await conn.execute(query)).scalar_one_or_none()
        return dict(found or {})

    async def set_duiyi_answers(
        self, *, manager_id: int, day: str, answers: dict[str, str], now: datetime
    ) -> None:
        stmt = insert_for(self.db.dialect, duiyi_answers).values(
            manager_id=manager_id, day=day, answers=answers, updated_at=now
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["manager_id", "day"], set_={"answers": answers, "updated_at": now}
        )
        async with self.db.write() as conn:
            await conn.execute(stmt)
