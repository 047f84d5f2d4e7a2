"""SQL for the device registry: what a device told us when it registered, and which Socket.IO connection is
its own. Presence (online, last heartbeat) is the engine's node row; tasks are engine jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from agenthub.protocols.devices.tables import devices
from agenthub.storage.database import Database
from agenthub.storage.upsert import insert_for


@dataclass(frozen=True, slots=True)
class Registration:
    device_id: str
    device_name: str
    device_type: str
    device_info: dict[str, Any]
    sid: str | None  # its current connection; None once it disconnected
    registered_at: datetime


def _registration(row: Any) -> Registration:
    m = row._mapping
    return Registration(
        device_id=m["device_id"],
        device_name=m["device_name"],
        device_type=m["device_type"],
        device_info=m["device_info"] or {},
        sid=m["sid"],
        registered_at=m["registered_at"],
    )


class DevicesRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def register(
        self, *, device_id: str, name: str, device_type: str, info: dict[str, Any], sid: str, now: datetime
    ) -> Registration | None:
        """Upserts the device on this connection; returns the row as it was before (or None)."""
        values = {
            "device_name": name,
            "device_type": device_type,
            "device_info": info,
            "sid": sid,
            "registered_at": now,
        }
        stmt = insert_for(self.db.dialect, devices).values(device_id=device_id, **values)
        stmt = stmt.on_conflict_do_update(index_elements=["device_id"], set_=values)
        async with self.db.write() as conn:
            before = (await conn.execute(sa.select(devices).where(devices.c.device_id == device_id))).first()
            await conn.execute(stmt)
        return _registration(before) if before else None

    async def is_connected_on(self, device_id: str, sid: str) -> bool:
        """Whether this connection is still the device's own (it may have registered again elsewhere)."""
        query = sa.select(devices.c.device_id).where(devices.c.device_id == device_id, devices.c.sid == sid)
        async with self.db.read() as conn:
            return (await conn.execute(query)).first() is not None

    async def detach(self, device_id: str, sid: str) -> bool:
        """Forgets the connection if it is still the device's own; False when the device moved on."""
        stmt = devices.update().where(devices.c.device_id == device_id, devices.c.sid == sid).values(sid=None)
        async with self.db.write() as conn:
            return (await conn.execute(stmt)).rowcount == 1

    async def get(self, device_id: str) -> Registration | None:
        async with self.db.read() as conn:
            row = (await conn.execute(sa.select(devices).where(devices.c.device_id == device_id))).first()
        return _registration(row) if row else None

    async def all(self) -> list[Registration]:
        async with self.db.read() as conn:
            rows = await conn.execute(sa.select(devices).order_by(devices.c.device_id))
            return [_registration(r) for r in rows]

    async def connected(self) -> list[Registration]:
        query = sa.select(devices).where(devices.c.sid.is_not(None)).order_by(devices.c.device_id)
        async with self.db.read() as conn:
            return [_registration(r) for r in await conn.execute(query)]
