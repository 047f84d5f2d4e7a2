"""The Maicraft tables through `runtime.db`: locations, to-do tasks and token usage, each per bot."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from agenthub.protocols.maicraft.errors import NotFound
from agenthub.protocols.maicraft.records import Location, Task, TokenUsage
from agenthub.protocols.maicraft.tables import locations, tasks, token_usage
from agenthub.storage import Database
from agenthub.storage.upsert import insert_for

DONE_PROGRESS = "已完成"
NEW_PROGRESS = "尚未开始"


def _location(row: Any) -> Location:
    return Location(row.name, row.info, row.x, row.y, row.z, row.visit_count, row.created_at)


def _task(row: Any) -> Task:
    return Task(row.task_id, row.details, row.done_criteria, row.progress, row.done)


def _usage(row: Any) -> TokenUsage:
    return TokenUsage(
        row.model_name,
        row.total_prompt_tokens,
        row.total_completion_tokens,
        row.total_calls,
        row.total_cost,
        row.first_call_time,
        row.last_call_time,
        row.last_updated,
    )


class MaicraftRepository:
    def __init__(self, db: Database, bot: str) -> None:
        self._db = db
        self._bot = bot

    # -- locations ------------------------------------------------------------------------------------

    async def locations(self) -> list[Location]:
        query = sa.select(locations).where(locations.c.bot == self._bot).order_by(locations.c.created_at)
        async with self._db.read() as conn:
            return [_location(row) for row in await conn.execute(query)]

    async def location(self, name: str) -> Location:
        query = sa.select(locations).where(locations.c.bot == self._bot, locations.c.name == name)
        async with self._db.read() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound("位置点不存在")
        return _location(row)

    async def add_location(self, *, name: str, info: str, x: int, y: int, z: int, now: datetime) -> Location:
        """Stores a location; a taken name gets the first free `~N` suffix, as the original does."""
        async with self._db.write() as conn:
            taken = set(
                (
                    await conn.execute(
                        sa.select(locations.c.name).where(
                            locations.c.bot == self._bot,
                            sa.or_(locations.c.name == name, locations.c.name.startswith(f"{name}~")),
                        )
                    )
                ).scalars()
            )
            final, n = name, 0
            while final in taken:
                n += 1
                final = f"{name}~{n}"
            values = {
                "name": final,
                "info": info,
                "x": x,
                "y": y,
                "z": z,
                "visit_count": 0,
                "created_at": now,
            }
            await conn.execute(sa.insert(locations).values(bot=self._bot, **values))
        return Location(final, info, x, y, z, 0, now)

    async def update_location_info(self, name: str, info: str) -> Location:
        async with self._db.write() as conn:
            result = await conn.execute(
                sa.update(locations)
                .where(locations.c.bot == self._bot, locations.c.name == name)
                .values(info=info)
            )
        if result.rowcount == 0:
            raise NotFound("位置点不存在")
        return await self.location(name)

    async def delete_location(self, name: str) -> Location:
        found = await self.location(name)
        async with self._db.write() as conn:
            await conn.execute(
                sa.delete(locations).where(locations.c.bot == self._bot, locations.c.name == name)
            )
        return found

    # -- to-do tasks ----------------------------------------------------------------------------------

    async def tasks(self) -> list[Task]:
        async with self._db.read() as conn:
            return await self._tasks(conn)

    async def _tasks(self, conn: Any) -> list[Task]:
        query = sa.select(tasks).where(tasks.c.bot == self._bot).order_by(tasks.c.task_id)
        return [_task(row) for row in await conn.execute(query)]

    async def add_task(self, *, details: str, done_criteria: str, now: datetime, max_tasks: int) -> Task:
        """Adds a task with the smallest unused positive id; past `max_tasks`, done tasks are dropped
        oldest first (the original's to-do list stays short)."""
        async with self._db.write() as conn:
            rows = (
                await conn.execute(sa.select(tasks.c.task_id, tasks.c.seq).where(tasks.c.bot == self._bot))
            ).all()
            used = {row.task_id for row in rows}
            task_id = next(n for n in range(1, len(used) + 2) if n not in used)
            seq = max((row.seq for row in rows), default=0) + 1
            await conn.execute(
                sa.insert(tasks).values(
                    bot=self._bot,
                    task_id=task_id,
                    details=details,
                    done_criteria=done_criteria,
                    progress=NEW_PROGRESS,
                    done=False,
                    created_at=now,
                    seq=seq,
                )
            )
            excess = len(rows) + 1 - max_tasks
            if excess > 0:
                done_ids = (
                    await conn.execute(
                        sa.select(tasks.c.task_id)
                        .where(tasks.c.bot == self._bot, tasks.c.done.is_(True))
                        .order_by(tasks.c.seq)
                        .limit(excess)
                    )
                ).scalars()
                await conn.execute(
                    sa.delete(tasks).where(tasks.c.bot == self._bot, tasks.c.task_id.in_(list(done_ids)))
                )
        return Task(task_id, details, done_criteria, NEW_PROGRESS, False)

    async def _change_task(self, task_id: str, **values: Any) -> None:
        key = _task_key(task_id)
        async with self._db.write() as conn:
            where = (tasks.c.bot == self._bot, tasks.c.task_id == key)
            if values:
                result = await conn.execute(sa.update(tasks).where(*where).values(**values))
            else:
                result = await conn.execute(sa.delete(tasks).where(*where))
        if result.rowcount == 0:
            raise NotFound(f"任务不存在: {task_id}")

    async def update_task(self, task_id: str, progress: str) -> None:
        await self._change_task(task_id, progress=progress)

    async def mark_done(self, task_id: str) -> None:
        await self._change_task(task_id, done=True, progress=DONE_PROGRESS)

    async def delete_task(self, task_id: str) -> None:
        await self._change_task(task_id)

    # -- token usage ----------------------------------------------------------------------------------

    async def usages(self) -> list[TokenUsage]:
        query = (
            sa.select(token_usage).where(token_usage.c.bot == self._bot).order_by(token_usage.c.model_name)
        )
        async with self._db.read() as conn:
            return [_usage(row) for row in await conn.execute(query)]

    async def record_usage(
        self, *, model_name: str, prompt_tokens: int, completion_tokens: int, cost: float, at: float
    ) -> TokenUsage:
        where = (token_usage.c.bot == self._bot, token_usage.c.model_name == model_name)
        # Insert-if-missing then add: two first calls of a model at once cannot collide.
        zero = insert_for(self._db.dialect, token_usage).values(
            bot=self._bot,
            model_name=model_name,
            total_prompt_tokens=0,
            total_completion_tokens=0,
            total_calls=0,
            total_cost=0.0,
            first_call_time=at,
            last_call_time=at,
            last_updated=at,
        )
        async with self._db.write() as conn:
            await conn.execute(zero.on_conflict_do_nothing(index_elements=["bot", "model_name"]))
            await conn.execute(
                sa.update(token_usage)
                .where(*where)
                .values(
                    total_prompt_tokens=token_usage.c.total_prompt_tokens + prompt_tokens,
                    total_completion_tokens=token_usage.c.total_completion_tokens + completion_tokens,
                    total_calls=token_usage.c.total_calls + 1,
                    total_cost=token_usage.c.total_cost + cost,
                    last_call_time=at,
                    last_updated=at,
                )
            )
            fresh = (await conn.execute(sa.select(token_usage).where(*where))).one()
        return _usage(fresh)


def _task_key(task_id: str) -> int:
    try:
        return int(task_id)
    except ValueError:
        raise NotFound(f"任务不存在: {task_id}") from None
