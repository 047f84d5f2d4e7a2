"""SQL the devices protocol needs beyond the engine's: the device registry and per-device task counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from agenthub.core.jobs import Job, JobStatus
from agenthub.protocols.devices.tables import devices
from agenthub.protocols.devices.tasks import TASK_KIND
from agenthub.storage.database import Database
from agenthub.storage.job_store import HELD, row_to_job
from agenthub.storage.tables import jobs
from agenthub.storage.upsert import insert_for

ONLINE, OFFLINE = "online", "offline"


@dataclass(frozen=True, slots=True)
class Device:
    device_id: str
    device_name: str
    device_type: str
    device_info: dict[str, Any]
    status: str
    sid: str | None
    registered_at: datetime
    last_heartbeat: datetime


def _device(row: Any) -> Device:
    m = row._mapping
    return Device(
        device_id=m["device_id"],
        device_name=m["device_name"],
        device_type=m["device_type"],
        device_info=m["device_info"] or {},
        status=m["status"],
        sid=m["sid"],
        registered_at=m["registered_at"],
        last_heartbeat=m["last_heartbeat"],
    )


class DevicesRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- the registry -------------------------------------------------------------------------------

    async def register(
        self, *, device_id: str, name: str, device_type: str, info: dict[str, Any], sid: str, now: datetime
    ) -> Device | None:
        """Upserts the device as online on this connection; returns the row as it was before (or None)."""
        values = {
            "device_name": name,
            "device_type": device_type,
            "device_info": info,
            "status": ONLINE,
            "sid": sid,
            "registered_at": now,
            "last_heartbeat": now,
        }
        stmt = insert_for(self.db.dialect, devices).values(device_id=device_id, **values)
        stmt = stmt.on_conflict_do_update(index_elements=["device_id"], set_=values)
        async with self.db.write() as conn:
            before = (await conn.execute(sa.select(devices).where(devices.c.device_id == device_id))).first()
            await conn.execute(stmt)
        return _device(before) if before else None

    async def touch(self, device_id: str, sid: str, now: datetime) -> bool:
        """A heartbeat from the device's current connection; False when that connection is no longer its."""
        stmt = (
            devices.update()
            .where(devices.c.device_id == device_id, devices.c.sid == sid)
            .values(last_heartbeat=now, status=ONLINE)
        )
        async with self.db.write() as conn:
            return (await conn.execute(stmt)).rowcount == 1

    async def disconnected(self, device_id: str, sid: str) -> bool:
        """Marks the device offline if this connection is still its own (it may have reconnected already)."""
        stmt = (
            devices.update()
            .where(devices.c.device_id == device_id, devices.c.sid == sid)
            .values(status=OFFLINE, sid=None)
        )
        async with self.db.write() as conn:
            return (await conn.execute(stmt)).rowcount == 1

    async def mark_silent_offline(self, cutoff: datetime) -> list[Device]:
        stmt = (
            devices.update()
            .where(devices.c.status == ONLINE, devices.c.last_heartbeat < cutoff)
            .values(status=OFFLINE)
            .returning(*devices.c)
        )
        async with self.db.write() as conn:
            return [_device(r) for r in await conn.execute(stmt)]

    async def get(self, device_id: str) -> Device | None:
        async with self.db.read() as conn:
            row = (await conn.execute(sa.select(devices).where(devices.c.device_id == device_id))).first()
        return _device(row) if row else None

    async def all(self) -> list[Device]:
        async with self.db.read() as conn:
            return [_device(r) for r in await conn.execute(sa.select(devices).order_by(devices.c.device_id))]

    async def online(self, cutoff: datetime) -> list[Device]:
        query = sa.select(devices).where(devices.c.status == ONLINE, devices.c.last_heartbeat >= cutoff)
        async with self.db.read() as conn:
            return [_device(r) for r in await conn.execute(query)]

    # -- tasks as the devices see them ----------------------------------------------------------------

    async def held_counts(self) -> dict[str, int]:
        query = (
            sa.select(jobs.c.leased_by, sa.func.count())
            .where(jobs.c.kind == TASK_KIND, jobs.c.status.in_(HELD))
            .group_by(jobs.c.leased_by)
        )
        async with self.db.read() as conn:
            return {device_id: n for device_id, n in (await conn.execute(query)).all()}

    async def held_by(self, device_id: str) -> list[Job]:
        query = (
            sa.select(jobs)
            .where(jobs.c.kind == TASK_KIND, jobs.c.status.in_(HELD), jobs.c.leased_by == device_id)
            .order_by(jobs.c.id)
        )
        async with self.db.read() as conn:
            return [row_to_job(r) for r in await conn.execute(query)]

    async def orphaned(self, cutoff: datetime, limit: int = 500) -> list[Job]:
        """Held tasks whose device is offline, silent since before the cutoff, or unknown."""
        live = sa.select(devices.c.device_id).where(
            devices.c.status == ONLINE, devices.c.last_heartbeat >= cutoff
        )
        query = (
            sa.select(jobs)
            .where(jobs.c.kind == TASK_KIND, jobs.c.status.in_(HELD), jobs.c.leased_by.not_in(live))
            .order_by(jobs.c.id)
            .limit(limit)
        )
        async with self.db.read() as conn:
            return [row_to_job(r) for r in await conn.execute(query)]

    async def pending(self, now: datetime, limit: int) -> list[Job]:
        query = (
            sa.select(jobs)
            .where(
                jobs.c.kind == TASK_KIND,
                jobs.c.status == JobStatus.PENDING.value,
                jobs.c.scheduled_at <= now,
            )
            .order_by(jobs.c.priority.desc(), jobs.c.scheduled_at, jobs.c.id)
            .limit(limit)
        )
        async with self.db.read() as conn:
            return [row_to_job(r) for r in await conn.execute(query)]

    async def count_active(self) -> int:
        query = (
            sa.select(sa.func.count())
            .select_from(jobs)
            .where(jobs.c.kind == TASK_KIND, jobs.c.status.in_(("pending", *HELD)))
        )
        async with self.db.read() as conn:
            return int((await conn.execute(query)).scalar_one())
