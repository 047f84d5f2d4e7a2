"""Oas SQL: super admins, managers, users and their logs. Keyword-only, one statement per question."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from agenthub.protocols.oas.records import LogEntry, Manager, User
from agenthub.protocols.oas.tables import managers, super_admins, user_logs, users
from agenthub.storage.database import Database

USER_JSON_FIELDS = (
    "assets",
    "task_config",
    "rest_config",
    "lineup_config",
    "shikigami_config",
    "explore_progress",
    "notify_config",
)


def _manager(row: Any) -> Manager:
    m = row._mapping
    return Manager(
        id=m["id"],
        username=m["username"],
        password_hash=m["password_hash"],
        alias=m["alias"],
        expires_at=m["expires_at"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def _user(row: Any) -> User:
    m = dict(row._mapping)
    for name in USER_JSON_FIELDS:
        m[name] = m[name] or {}
    return User(**m)


def _log(row: Any) -> LogEntry:
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


class OasRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- super admins -----------------------------------------------------------------------------------

    async def super_admin_count(self) -> int:
        async with self.db.read() as conn:
            return int(
                (await conn.execute(sa.select(sa.func.count()).select_from(super_admins))).scalar_one()
            )

    async def create_super_admin(self, *, username: str, password_hash: str, now: datetime) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                super_admins.insert().values(username=username, password_hash=password_hash, created_at=now)
            )

    async def super_admin_hash(self, *, username: str) -> tuple[int, str] | None:
        query = sa.select(super_admins.c.id, super_admins.c.password_hash).where(
            super_admins.c.username == username
        )
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        return (row.id, row.password_hash) if row else None

    # -- managers ---------------------------------------------------------------------------------------

    async def create_manager(
        self, *, username: str, password_hash: str, alias: str, expires_at: datetime | None, now: datetime
    ) -> Manager:
        stmt = managers.insert().values(
            username=username,
            password_hash=password_hash,
            alias=alias,
            expires_at=expires_at,
            created_at=now,
            updated_at=now,
        )
        async with self.db.write() as conn:
            row = (await conn.execute(stmt.returning(*managers.c))).one()
        return _manager(row)

    async def manager_by_username(self, *, username: str) -> Manager | None:
        return await self._one_manager(managers.c.username == username)

    async def manager(self, *, manager_id: int) -> Manager | None:
        return await self._one_manager(managers.c.id == manager_id)

    async def managers(self) -> list[Manager]:
        async with self.db.read() as conn:
            return [_manager(r) for r in await conn.execute(sa.select(managers).order_by(managers.c.id))]

    async def update_manager(self, *, manager_id: int, now: datetime, **values: Any) -> Manager | None:
        stmt = managers.update().where(managers.c.id == manager_id).values(updated_at=now, **values)
        async with self.db.write() as conn:
            row = (await conn.execute(stmt.returning(*managers.c))).first()
        return _manager(row) if row else None

    async def _one_manager(self, condition: Any) -> Manager | None:
        async with self.db.read() as conn:
            row = (await conn.execute(sa.select(managers).where(condition))).first()
        return _manager(row) if row else None

    # -- users ------------------------------------------------------------------------------------------

    async def create_user(
        self,
        *,
        manager_id: int,
        user_type: str,
        login_id: str | None,
        username: str,
        server: str,
        expires_at: datetime | None,
        now: datetime,
    ) -> User:
        async with self.db.write() as conn:
            if login_id is None:
                login_id = await self._next_login_id(conn, manager_id)
            stmt = users.insert().values(
                manager_id=manager_id,
                account_no=_new_account_no(),
                login_id=login_id,
                user_type=user_type,
                status="active",
                archive_status="normal",
                server=server,
                username=username,
                expires_at=expires_at,
                task_config={},
                task_config_version=0,
                created_at=now,
                updated_at=now,
            )
            row = (await conn.execute(stmt.returning(*users.c))).one()
        return _user(row)

    async def user(self, *, user_id: int, manager_id: int | None = None) -> User | None:
        query = sa.select(users).where(users.c.id == user_id)
        if manager_id is not None:
            query = query.where(users.c.manager_id == manager_id)
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        return _user(row) if row else None

    async def user_by_account_no(self, *, account_no: str) -> User | None:
        async with self.db.read() as conn:
            row = (await conn.execute(sa.select(users).where(users.c.account_no == account_no))).first()
        return _user(row) if row else None

    async def users(
        self,
        *,
        manager_id: int,
        limit: int,
        offset: int,
        user_type: str | None = None,
        status: str | None = None,
        keyword: str | None = None,
    ) -> tuple[list[User], int]:
        conditions: list[Any] = [users.c.manager_id == manager_id]
        if user_type:
            conditions.append(users.c.user_type == user_type)
        if status:
            conditions.append(users.c.status == status)
        if keyword:
            like = f"%{keyword}%"
            conditions.append(
                sa.or_(
                    users.c.account_no.like(like), users.c.login_id.like(like), users.c.username.like(like)
                )
            )
        query = sa.select(users).where(*conditions).order_by(users.c.id).limit(limit).offset(offset)
        count = sa.select(sa.func.count()).select_from(users).where(*conditions)
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
            total = (await conn.execute(count)).scalar_one()
        return [_user(r) for r in rows], int(total)

    async def update_user(
        self,
        *,
        user_id: int,
        now: datetime,
        manager_id: int | None = None,
        conn: AsyncConnection | None = None,
        **values: Any,
    ) -> User | None:
        stmt = users.update().where(users.c.id == user_id).values(updated_at=now, **values)
        if manager_id is not None:
            stmt = stmt.where(users.c.manager_id == manager_id)
        if conn is not None:
            row = (await conn.execute(stmt.returning(*users.c))).first()
        else:
            async with self.db.write() as own:
                row = (await own.execute(stmt.returning(*users.c))).first()
        return _user(row) if row else None

    async def _next_login_id(self, conn: AsyncConnection, manager_id: int) -> str:
        """The per-manager sequence: one more than the largest numeric login_id so far."""
        query = sa.select(users.c.login_id).where(users.c.manager_id == manager_id)
        numbers = [int(v) for v in (await conn.execute(query)).scalars() if v.isdigit()]
        return str(max(numbers, default=0) + 1)

    # -- logs -------------------------------------------------------------------------------------------

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
        return [_log(r) for r in rows], int(total)


def _new_account_no() -> str:
    """What a user logs in with: 12 characters, unambiguous to read aloud."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))
