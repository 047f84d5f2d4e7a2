"""Scan SQL: the side rows of scan jobs, the queue position, the cooldown count, users who left."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from agenthub.core.jobs import JobStatus
from agenthub.protocols.oas.scan.records import SCAN_KIND, ScanRow
from agenthub.protocols.oas.scan.tables import scan_jobs
from agenthub.storage.database import Database
from agenthub.storage.tables import jobs

ACTIVE = (JobStatus.PENDING.value, JobStatus.LEASED.value, JobStatus.RUNNING.value)


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

    async def position(self, *, manager_id: int, job_id: int) -> int:
        """1 for the next scan an agent of this manager will get; counts pending scans queued before it."""
        query = (
            sa.select(sa.func.count())
            .select_from(jobs)
            .where(
                jobs.c.kind == SCAN_KIND,
                jobs.c.owner_id == manager_id,
                jobs.c.status == JobStatus.PENDING.value,
                jobs.c.id <= job_id,
            )
        )
        async with self.db.read() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def gone_users(self, *, seen_before: datetime, limit: int = 200) -> list[int]:
        """Active scan jobs whose user has not been seen since the given time."""
        query = (
            sa.select(scan_jobs.c.job_id)
            .join(jobs, jobs.c.id == scan_jobs.c.job_id)
            .where(jobs.c.status.in_(ACTIVE), scan_jobs.c.user_seen_at < seen_before)
            .order_by(scan_jobs.c.job_id)
            .limit(limit)
        )
        async with self.db.read() as conn:
            return list((await conn.execute(query)).scalars())
