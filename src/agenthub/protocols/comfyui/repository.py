"""The ComfyUI platform's own SQL: agents, manifests, task events and alerts. Tasks are engine jobs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from agenthub.core.errors import Conflict
from agenthub.protocols.comfyui.errors import AgentExists, ManifestVersionExists
from agenthub.protocols.comfyui.records import Agent, Alert, Manifest, TaskEvent
from agenthub.protocols.comfyui.tables import agents, alerts, manifests, task_events
from agenthub.storage.database import Database


def _agent(row: Any) -> Agent:
    return Agent(**row._mapping)


def _manifest(row: Any) -> Manifest:
    return Manifest(**row._mapping)


def _event(row: Any) -> TaskEvent:
    return TaskEvent(**row._mapping)


def _alert(row: Any) -> Alert:
    return Alert(**row._mapping)


class ComfyuiRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- agents -----------------------------------------------------------------------------------------

    async def insert_agent(self, *, agent_id: str, base_url: str, allowed: bool, now: datetime) -> Agent:
        values = {
            "agent_id": agent_id,
            "base_url": base_url,
            "allowed": allowed,
            "created_at": now,
            "updated_at": now,
        }
        try:
            async with self.db.write() as conn:
                row = (await conn.execute(agents.insert().values(**values).returning(*agents.c))).one()
        except Conflict as exc:
            raise AgentExists(agent_id) from exc
        return _agent(row)

    async def agent(self, agent_id: str) -> Agent | None:
        async with self.db.read() as conn:
            row = (await conn.execute(sa.select(agents).where(agents.c.agent_id == agent_id))).first()
        return _agent(row) if row else None

    async def list_agents(self) -> list[Agent]:
        async with self.db.read() as conn:
            rows = (await conn.execute(sa.select(agents).order_by(agents.c.agent_id))).all()
        return [_agent(r) for r in rows]

    async def update_agent(self, agent_id: str, *, now: datetime, **values: Any) -> Agent | None:
        stmt = (
            agents.update()
            .where(agents.c.agent_id == agent_id)
            .values(**values, updated_at=now)
            .returning(*agents.c)
        )
        async with self.db.write() as conn:
            row = (await conn.execute(stmt)).first()
        return _agent(row) if row else None

    async def allowed_agents(self, agent_ids: Iterable[str]) -> list[Agent]:
        """Those of the agents that are allowed, by id."""
        query = sa.select(agents).where(agents.c.allowed.is_(True), agents.c.agent_id.in_(list(agent_ids)))
        async with self.db.read() as conn:
            rows = (await conn.execute(query.order_by(agents.c.agent_id))).all()
        return [_agent(r) for r in rows]

    # -- manifests --------------------------------------------------------------------------------------

    async def insert_manifest(
        self, *, name: str, role: str, version: str, content: dict[str, Any], now: datetime
    ) -> Manifest:
        values = {"name": name, "role": role, "version": version, "content": content, "created_at": now}
        try:
            async with self.db.write() as conn:
                row = (await conn.execute(manifests.insert().values(**values).returning(*manifests.c))).one()
        except Conflict as exc:
            raise ManifestVersionExists(f"{name} {version}") from exc
        return _manifest(row)

    async def manifest(self, manifest_id: int) -> Manifest | None:
        async with self.db.read() as conn:
            row = (await conn.execute(sa.select(manifests).where(manifests.c.id == manifest_id))).first()
        return _manifest(row) if row else None

    async def list_manifests(self, *, name: str | None = None) -> list[Manifest]:
        query = sa.select(manifests).order_by(manifests.c.name, manifests.c.id)
        if name is not None:
            query = query.where(manifests.c.name == name)
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [_manifest(r) for r in rows]

    # -- task events ------------------------------------------------------------------------------------

    @staticmethod
    async def insert_event(
        conn: AsyncConnection,
        *,
        job_id: int,
        task_id: str,
        level: str,
        message: str,
        payload: dict[str, Any] | None,
        now: datetime,
    ) -> TaskEvent:
        values = {
            "job_id": job_id,
            "task_id": task_id,
            "level": level,
            "message": message,
            "payload": payload,
            "created_at": now,
        }
        row = (await conn.execute(task_events.insert().values(**values).returning(*task_events.c))).one()
        return _event(row)

    async def events(self, job_id: int) -> list[TaskEvent]:
        query = sa.select(task_events).where(task_events.c.job_id == job_id).order_by(task_events.c.id)
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [_event(r) for r in rows]

    # -- alerts -----------------------------------------------------------------------------------------

    async def insert_alert(
        self, *, agent_id: str, type: str, message: str, payload: dict[str, Any] | None, now: datetime
    ) -> Alert:
        values = {
            "agent_id": agent_id,
            "type": type,
            "message": message,
            "payload": payload,
            "created_at": now,
        }
        async with self.db.write() as conn:
            row = (await conn.execute(alerts.insert().values(**values).returning(*alerts.c))).one()
        return _alert(row)

    async def alerts(self, agent_id: str, *, limit: int = 20) -> list[Alert]:
        query = (
            sa.select(alerts).where(alerts.c.agent_id == agent_id).order_by(alerts.c.id.desc()).limit(limit)
        )
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [_alert(r) for r in rows]
