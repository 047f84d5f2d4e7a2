"""Oas SQL for the manager's duiyi_jingcai answers, one row per manager and Beijing day."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from agenthub.protocols.oas.tables import duiyi_answers
from agenthub.storage.database import Database
from agenthub.storage.upsert import insert_for


class DuiyiAnswersStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def answers(self, *, manager_id: int, day: str) -> dict[str, str]:
        query = sa.select(duiyi_answers.c.answers).where(
            duiyi_answers.c.manager_id == manager_id, duiyi_answers.c.day == day
        )
        async with self.db.read() as conn:
            found = (await conn.execute(query)).scalar_one_or_none()
        return dict(found or {})

    async def set_answers(self, *, manager_id: int, day: str, answers: dict[str, str], now: datetime) -> None:
        stmt = insert_for(self.db.dialect, duiyi_answers).values(
            manager_id=manager_id, day=day, answers=answers, updated_at=now
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["manager_id", "day"], set_={"answers": answers, "updated_at": now}
        )
        async with self.db.write() as conn:
            await conn.execute(stmt)
