"""The IaC platform's SQL: applications, agents, workspaces, task rows, log chunks, state versions.

Everything that must not race (log offsets, state version numbers) runs in one write transaction that first
locks the row it extends (PostgreSQL row lock; SQLite's single writer does the same), so two writers never
see the same committed offset or the same max version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from agenthub.core.errors import Conflict
from agenthub.protocols.iac.errors import LogConflict, LogGap, NotFound
from agenthub.protocols.iac.records import (
    AgentRecord,
    Application,
    ChunkResult,
    StateVersion,
    TaskRecord,
    Variable,
    Workspace,
)
from agenthub.protocols.iac.tables import agents, applications, state_versions, task_logs, tasks, workspaces
from agenthub.storage.database import Database


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _storable(key: str, limit: int = 128) -> bool:
    """A lookup key that can be in the table at all (PostgreSQL refuses NUL and lone surrogates outright)."""
    if len(key) > limit or "\x00" in key:
        return False
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# The seed's two outputs per task, made of the phases' logs in this order (`init` belongs with the plan).
OUTPUTS = {"plan_output": ("init", "plan"), "apply_output": ("apply",)}


class IacRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _locked(self, query: Any) -> Any:
        return query if self.db.is_sqlite else query.with_for_update()

    # -- applications and agents ---------------------------------------------------------------------------

    async def create_application(self, *, name: str, app_key: str, secret_hash: str, now: datetime) -> int:
        async with self.db.write() as conn:
            insert = applications.insert().values(
                name=name, app_key=app_key, secret_hash=secret_hash, created_at=now
            )
            new_id = (await conn.execute(insert.returning(applications.c.id))).scalar_one()
        return int(new_id)

    async def application_by_key(self, app_key: str) -> Application | None:
        if not _storable(app_key, 64):
            return None
        async with self.db.read() as conn:
            row = (
                await conn.execute(sa.select(applications).where(applications.c.app_key == app_key))
            ).first()
        if row is None:
            return None
        return Application(id=row.id, name=row.name, app_key=row.app_key, secret_hash=row.secret_hash)

    async def application_exists(self, application_id: int) -> bool:
        async with self.db.read() as conn:
            query = sa.select(applications.c.id).where(applications.c.id == application_id)
            return (await conn.execute(query)).first() is not None

    async def create_agent(
        self, *, agent_id: str, application_id: int, name: str | None, now: datetime
    ) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                agents.insert().values(
                    agent_id=agent_id, application_id=application_id, name=name, created_at=now
                )
            )

    async def agent(self, agent_id: str) -> AgentRecord | None:
        if not _storable(agent_id):
            return None
        async with self.db.read() as conn:
            row = (await conn.execute(sa.select(agents).where(agents.c.agent_id == agent_id))).first()
        return _agent(row) if row is not None else None

    async def list_agents(self) -> list[AgentRecord]:
        async with self.db.read() as conn:
            rows = (await conn.execute(sa.select(agents).order_by(agents.c.agent_id))).all()
        return [_agent(row) for row in rows]

    # -- workspaces ------------------------------------------------------------------------------------------

    async def create_workspace(self, values: dict[str, Any], *, now: datetime) -> None:
        async with self.db.write() as conn:
            await conn.execute(workspaces.insert().values(**values, created_at=now, updated_at=now))

    async def workspace(self, workspace_id: str) -> Workspace | None:
        if not _storable(workspace_id):
            return None
        async with self.db.read() as conn:
            query = sa.select(workspaces).where(workspaces.c.workspace_id == workspace_id)
            row = (await conn.execute(query)).first()
        return _workspace(row) if row is not None else None

    # -- tasks -----------------------------------------------------------------------------------------------

    @staticmethod
    async def insert_task(conn: AsyncConnection, values: dict[str, Any]) -> None:
        await conn.execute(tasks.insert().values(**values))

    @staticmethod
    async def update_task(conn: AsyncConnection, job_id: int, values: dict[str, Any]) -> None:
        await conn.execute(tasks.update().where(tasks.c.job_id == job_id).values(**values))

    async def set_task(self, job_id: int, values: dict[str, Any]) -> None:
        async with self.db.write() as conn:
            await self.update_task(conn, job_id, values)

    async def task(self, job_id: int) -> TaskRecord | None:
        async with self.db.read() as conn:
            row = (await conn.execute(sa.select(tasks).where(tasks.c.job_id == job_id))).first()
        return _task(row) if row is not None else None

    async def outputs(self, job_id: int) -> dict[str, str]:
        """`plan_output` and `apply_output`, from the stored chunks."""
        query = (
            sa.select(task_logs.c.phase, task_logs.c.content)
            .where(task_logs.c.job_id == job_id)
            .order_by(task_logs.c.phase, task_logs.c.offset)
        )
        by_phase: dict[str, list[str]] = {}
        async with self.db.read() as conn:
            for row in (await conn.execute(query)).all():
                by_phase.setdefault(row.phase, []).append(row.content)
        return {
            name: "".join("".join(by_phase.get(phase, ())) for phase in phases)
            for name, phases in OUTPUTS.items()
        }

    # -- log chunks ------------------------------------------------------------------------------------------

    async def append_chunk(
        self, job_id: int, phase: str, data: bytes, *, offset: int | None, now: datetime
    ) -> ChunkResult:
        """Stores a chunk of a phase's log at `offset` (None: at the end).

        A chunk whose bytes are already stored is acknowledged without storing them twice; a chunk that
        starts past the committed end would leave a gap and is refused (LogGap), one that disagrees with
        the stored bytes too (LogConflict). Both carry the committed offset so the agent can resume.
        """
        async with self.db.write() as conn:
            locked = await conn.execute(
                self._locked(sa.select(tasks.c.job_id).where(tasks.c.job_id == job_id))
            )
            if locked.first() is None:
                raise NotFound("task not found")
            committed = await self._committed(conn, job_id, phase)
            start = committed if offset is None else offset
            if start > committed:
                raise LogGap(committed)
            if start < committed:
                overlap = min(len(data), committed - start)
                stored = await self._stored(conn, job_id, phase, start, start + overlap)
                if stored != data[:overlap]:
                    raise LogConflict(committed)
                data, start = data[overlap:], committed
            if not data:
                return ChunkResult(next_offset=committed, saved_bytes=0)
            text = data.decode("utf-8")
            await conn.execute(
                task_logs.insert().values(
                    job_id=job_id,
                    phase=phase,
                    offset=start,
                    size=len(data),
                    content=text,
                    checksum=sha256_hex(data),
                    created_at=now,
                )
            )
        return ChunkResult(next_offset=start + len(data), saved_bytes=len(data))

    async def _committed(self, conn: AsyncConnection, job_id: int, phase: str) -> int:
        end = sa.func.coalesce(sa.func.max(task_logs.c.offset + task_logs.c.size), 0)
        query = sa.select(end).where(task_logs.c.job_id == job_id, task_logs.c.phase == phase)
        return int((await conn.execute(query)).scalar_one())

    async def _stored(self, conn: AsyncConnection, job_id: int, phase: str, start: int, end: int) -> bytes:
        query = (
            sa.select(task_logs.c.offset, task_logs.c.content)
            .where(
                task_logs.c.job_id == job_id,
                task_logs.c.phase == phase,
                task_logs.c.offset < end,
                task_logs.c.offset + task_logs.c.size > start,
            )
            .order_by(task_logs.c.offset)
        )
        rows = (await conn.execute(query)).all()
        if not rows:
            return b""
        joined = b"".join(row.content.encode("utf-8") for row in rows)
        skip = start - int(rows[0].offset)
        return joined[skip : skip + (end - start)]

    async def log_text(self, job_id: int, phase: str) -> str:
        query = (
            sa.select(task_logs.c.content)
            .where(task_logs.c.job_id == job_id, task_logs.c.phase == phase)
            .order_by(task_logs.c.offset)
        )
        async with self.db.read() as conn:
            return "".join(row.content for row in (await conn.execute(query)).all())

    # -- state versions --------------------------------------------------------------------------------------

    async def save_state(
        self,
        *,
        workspace_id: str,
        content: str,
        agent_checksum: str | None,
        agent_size: int | None,
        task_id: int,
        now: datetime,
    ) -> int:
        """Adds version max + 1 and makes it the workspace's current state, in one transaction."""
        for attempt in range(5):
            try:
                return await self._save_state_once(
                    workspace_id, content, agent_checksum, agent_size, task_id, now
                )
            except Conflict:  # the unique (workspace, version) guard; the row lock makes this rare
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")

    async def _save_state_once(
        self,
        workspace_id: str,
        content: str,
        agent_checksum: str | None,
        agent_size: int | None,
        task_id: int,
        now: datetime,
    ) -> int:
        data = content.encode("utf-8")
        async with self.db.write() as conn:
            ws = sa.select(workspaces.c.id).where(workspaces.c.workspace_id == workspace_id)
            if (await conn.execute(self._locked(ws))).first() is None:
                raise NotFound("workspace not found")
            top = sa.select(sa.func.coalesce(sa.func.max(state_versions.c.version), 0)).where(
                state_versions.c.workspace_id == workspace_id
            )
            version = int((await conn.execute(top)).scalar_one()) + 1
            await conn.execute(
                state_versions.insert().values(
                    workspace_id=workspace_id,
                    version=version,
                    content=content,
                    checksum=sha256_hex(data),
                    size=len(data),
                    agent_checksum=agent_checksum,
                    agent_size=agent_size,
                    task_id=task_id,
                    created_at=now,
                )
            )
            await conn.execute(
                workspaces.update()
                .where(workspaces.c.workspace_id == workspace_id)
                .values(current_state_version=version, tf_state=content, updated_at=now)
            )
        return version

    async def state_versions(self, workspace_id: str) -> list[StateVersion]:
        if not _storable(workspace_id):
            return []
        query = (
            sa.select(state_versions)
            .where(state_versions.c.workspace_id == workspace_id)
            .order_by(state_versions.c.version)
        )
        async with self.db.read() as conn:
            return [_state(row) for row in (await conn.execute(query)).all()]

    async def state_version(self, workspace_id: str, version: int) -> StateVersion | None:
        if not _storable(workspace_id):
            return None
        query = sa.select(state_versions).where(
            state_versions.c.workspace_id == workspace_id, state_versions.c.version == version
        )
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        return _state(row) if row is not None else None


def _agent(row: Any) -> AgentRecord:
    return AgentRecord(
        agent_id=row.agent_id, application_id=row.application_id, name=row.name, created_at=row.created_at
    )


def _variables(items: Sequence[dict[str, Any]] | None) -> tuple[Variable, ...]:
    return tuple(
        Variable(
            key=item["key"],
            value=item["value"],
            category=item["category"],
            sensitive=bool(item.get("sensitive")),
        )
        for item in items or ()
    )


def _workspace(row: Any) -> Workspace:
    return Workspace(
        pk=row.id,
        workspace_id=row.workspace_id,
        name=row.name,
        application_id=row.application_id,
        terraform_version=row.terraform_version,
        execution_mode=row.execution_mode,
        provider_config=row.provider_config,
        tf_code=row.tf_code,
        system_variables=row.system_variables,
        variables=_variables(row.variables),
        current_state_version=row.current_state_version,
        created_at=row.created_at,
    )


def _task(row: Any) -> TaskRecord:
    return TaskRecord(
        job_id=row.job_id,
        workspace_id=row.workspace_id,
        task_type=row.task_type,
        status=row.status,
        stage=row.stage,
        changes_add=row.changes_add,
        changes_change=row.changes_change,
        changes_destroy=row.changes_destroy,
        duration=row.duration,
        error_message=row.error_message,
        context=row.context,
        created_at=row.created_at,
        updated_at=row.updated_at,
        completed_at=row.completed_at,
    )


def _state(row: Any) -> StateVersion:
    return StateVersion(
        workspace_id=row.workspace_id,
        version=row.version,
        content=row.content,
        checksum=row.checksum,
        size=row.size,
        agent_checksum=row.agent_checksum,
        task_id=row.task_id,
        created_at=row.created_at,
    )
