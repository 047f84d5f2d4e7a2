"""Oas SQL for the operators: super admins and the managers they create. Keyword-only, one statement each."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from agenthub.protocols.oas.records import Manager
from agenthub.protocols.oas.tables import managers, super_admins
from agenthub.storage.database import Database


def manager_from_row(row: Any) -> Manager:
    m = row._mapping
    return Manager(
        id=m["id"],
        username=m["username"],
        password_hash=m["password_hash"],
        alias=m["alias"],
        expires_at=m["expires_at"],
        token_version=m["token_version"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


class ManagersStore:
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

    async def create_first_super_admin(
        self, *, username: str, password_hash: str, now: datetime
    ) -> int | None:
        """The first super admin, or None when one exists. The check and the insert are one transaction that
        holds the table against other writers (SQLite has one writer anyway), so two racing first runs
        cannot both win."""
        async with self.db.write() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(sa.text("LOCK TABLE oas_super_admins IN SHARE ROW EXCLUSIVE MODE"))
            count = (await conn.execute(sa.select(sa.func.count()).select_from(super_admins))).scalar_one()
            if count > 0:
                return None
            stmt = super_admins.insert().values(
                username=username, password_hash=password_hash, created_at=now
            )
            return int((await conn.execute(stmt.returning(super_admins.c.id))).scalar_one())

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
        return manager_from_row(row)

    async def manager_by_username(self, *, username: str) -> Manager | None:
        return await self._one_manager(managers.c.username == username)

    async def manager(self, *, manager_id: int) -> Manager | None:
        return await self._one_manager(managers.c.id == manager_id)

    async def managers(self) -> list[Manager]:
        async with self.db.read() as conn:
            return [
                manager_from_row(r) for r in await conn.execute(sa.select(managers).order_by(managers.c.id))
            ]

    async def update_manager(
        self, *, manager_id: int, now: datetime, new_token_version: bool = False, **values: Any
    ) -> Manager | None:
        """Changes the manager's columns; `new_token_version` also voids every token issued so far."""
        if new_token_version:
            values["token_version"] = managers.c.token_version + 1
        stmt = managers.update().where(managers.c.id == manager_id).values(updated_at=now, **values)
        async with self.db.write() as conn:
            row = (await conn.execute(stmt.returning(*managers.c))).first()
        return manager_from_row(row) if row else None

    async def _one_manager(self, condition: Any) -> Manager | None:
        async with self.db.read() as conn:
            row = (await conn.execute(sa.select(managers).where(condition))).first()
        return manager_from_row(row) if row else None
