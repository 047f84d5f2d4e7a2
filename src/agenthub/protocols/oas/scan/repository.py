"""Scan SQL: the side rows of scan jobs (the jobs themselves are read through the engine)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from agenthub.protocols.oas.scan.records import ScanRow
from agenthub.protocols.oas.scan.tables import scan_jobs
from agenthub.storage.database import Database


def _row(row: Any) -> ScanRow:
    m = dict(row._mapping)
    m["screenshots"] = m["screenshots"] or {}
    return ScanRow(**m)


class ScanRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(
        self,
        conn: AsyncConnection,
        *,
        job_id: int,
        manager_id: int,
        user_id: int,
        login_id: str,
        now: datetime,
    ) -> None:
        await conn.execute(
            scan_jobs.insert().values(
                job_id=job_id,
                manager_id=manager_id,
                user_id=user_id,
                login_id=login_id,
                lease_epoch=0,
                phase="waiting",
                screenshots={},
                user_seen_at=now,
                created_at=now,
                updated_at=now,
            )
        )

    async def get(self, job_id: int, *, conn: AsyncConnection | None = None) -> ScanRow | None:
        query = sa.select(scan_jobs).where(scan_jobs.c.job_id == job_id)
        if conn is not None:
            row = (await conn.execute(query)).first()
        else:
            async with self.db.read() as own:
                row = (await own.execute(query)).first()
        return _row(row) if row else None

    async def update(self, conn: AsyncConnection, job_id: int, *, now: datetime, **values: Any) -> None:
        await conn.execute(
            scan_jobs.update().where(scan_jobs.c.job_id == job_id).values(updated_at=now, **values)
        )

    async def set_choice(
        self, *, job_id: int, phase: str, choice_type: str, value: str, now: datetime
    ) -> bool:
        """Stores the user's choice only while the scan still waits in that phase (the agent may move on)."""
        stmt = (
            scan_jobs.update()
            .where(scan_jobs.c.job_id == job_id, scan_jobs.c.phase == phase)
            .values(choice_type=choice_type, choice_value=value, user_seen_at=now, updated_at=now)
        )
        async with self.db.write() as conn:
            return bool((await conn.execute(stmt)).rowcount)

    async def user_seen(self, *, job_id: int, now: datetime) -> None:
        stmt = scan_jobs.update().where(scan_jobs.c.job_id == job_id).values(user_seen_at=now)
        async with self.db.write() as conn:
            await conn.execute(stmt)

    async def created_since(self, *, user_id: int, since: datetime) -> list[datetime]:
        query = (
            sa.select(scan_jobs.c.created_at)
            .where(scan_jobs.c.user_id == user_id, scan_jobs.c.created_at > since)
            .order_by(scan_jobs.c.created_at)
        )
        async with self.db.read() as conn:
            return list((await conn.execute(query)).scalars())

    async def seen_before(self, job_ids: list[int], *, seen_before: datetime) -> list[int]:
        """Which of these scans' users have not been seen since the given time."""
        if not job_ids:
            return []
        query = sa.select(scan_jobs.c.job_id).where(
            scan_jobs.c.job_id.in_(job_ids), scan_jobs.c.user_seen_at < seen_before
        )
        async with self.db.read() as conn:
            return list((await conn.execute(query)).scalars())
