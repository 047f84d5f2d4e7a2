"""Oas job operations on the shared engine: the manager's queue, and results copied onto the user."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from agenthub.core.errors import JobNotFound
from agenthub.core.jobs import Change, Job, JobFilter, JobStatus, KindPolicy, LeaseRef, NewJob
from agenthub.core.nodes import NodeSighting
from agenthub.core.ports import TxHook
from agenthub.protocols.oas.repository import OasRepository
from agenthub.server.runtime import Runtime

TASK_KIND = "oas.task"
NODE_KIND = "oas"
# Retrying cannot fix these: the job fails at once (issue "Engine, storage and the Oas2.0 agent job API").
NON_RETRYABLE = frozenset({"LOCAL_ACCOUNT_NOT_MAPPED", "LOCAL_ACCOUNT_MISSING", "TASK_TYPE_INVALID"})
TASK_POLICY = KindPolicy(non_retryable_errors=NON_RETRYABLE)


def owned_by(manager_id: int) -> Any:
    def guard(job: Job) -> None:
        if job.kind != TASK_KIND or job.owner_id != manager_id:
            raise JobNotFound(job.id)

    return guard


class OasJobs:
    def __init__(self, runtime: Runtime, repo: OasRepository) -> None:
        self.runtime = runtime
        self.engine = runtime.engine
        self.repo = repo
        # Further writes that commit with a complete/fail (e.g. the scheduler moving next_time on).
        self.tx_hooks: list[TxHook] = []

    async def node_seen(self, *, manager_id: int, node_id: str, version: str | None = None) -> None:
        await self.engine.node_seen(
            NodeSighting(kind=NODE_KIND, node_id=node_id, owner_id=manager_id, version=version)
        )

    async def submit(
        self,
        *,
        manager_id: int,
        user_id: int,
        task_type: str,
        payload: dict[str, Any],
        priority: int,
        max_attempts: int,
        scheduled_at: Any = None,
        dedupe_key: str | None = None,
    ) -> Job | None:
        return await self.engine.submit(
            NewJob(
                kind=TASK_KIND,
                type=task_type,
                payload=payload,
                priority=priority,
                scheduled_at=scheduled_at,
                max_attempts=max_attempts,
                owner_id=manager_id,
                subject_id=user_id,
                dedupe_key=dedupe_key,
            )
        )

    async def poll(self, *, manager_id: int, node_id: str, limit: int, lease_seconds: int) -> list[Job]:
        return await self.engine.lease(
            JobFilter(kind=TASK_KIND, owner_id=manager_id),
            node_id=node_id,
            limit=limit,
            lease_for=timedelta(seconds=lease_seconds),
        )

    async def start(
        self, *, manager_id: int, job_id: int, node_id: str, lease_seconds: int, message: str | None
    ) -> Change:
        return await self.engine.start(
            job_id,
            LeaseRef(node_id),
            lease_for=timedelta(seconds=lease_seconds),
            message=message,
            guard=owned_by(manager_id),
        )

    async def heartbeat(
        self, *, manager_id: int, job_id: int, node_id: str, lease_seconds: int, message: str | None
    ) -> Change:
        return await self.engine.heartbeat(
            job_id,
            LeaseRef(node_id),
            lease_for=timedelta(seconds=lease_seconds),
            message=message,
            guard=owned_by(manager_id),
        )

    async def complete(
        self,
        *,
        manager_id: int,
        job_id: int,
        node_id: str,
        message: str | None,
        result: dict[str, Any] | None,
    ) -> Change:
        return await self.engine.complete(
            job_id,
            LeaseRef(node_id),
            result=result,
            message=message,
            guard=owned_by(manager_id),
            hook=self._after_report,
        )

    async def fail(
        self,
        *,
        manager_id: int,
        job_id: int,
        node_id: str,
        message: str | None,
        error_code: str | None,
        result: dict[str, Any] | None,
    ) -> Change:
        return await self.engine.fail(
            job_id,
            LeaseRef(node_id),
            error_code=error_code,
            message=message,
            result=result,
            guard=owned_by(manager_id),
            hook=self._after_report,
        )

    async def job(self, *, manager_id: int, job_id: int) -> Job:
        job = await self.engine.get(job_id)
        owned_by(manager_id)(job)
        return job

    async def _after_report(self, conn: AsyncConnection, change: Change) -> None:
        await self._copy_result(conn, change)
        for hook in self.tx_hooks:
            await hook(conn, change)

    async def _copy_result(self, conn: AsyncConnection, change: Change) -> None:
        """Writes what the agent reported onto the user, in the job's own transaction."""
        job, result = change.job, change.job.result or {}
        if job.subject_id is None or not isinstance(result, dict):
            return
        values: dict[str, Any] = {}
        if isinstance(result.get("account_status"), str) and result["account_status"]:
            values["archive_status"] = result["account_status"][:32]
        if job.status is JobStatus.SUCCESS:
            if isinstance(result.get("assets"), dict):
                values["assets"] = result["assets"]
            if isinstance(result.get("explore_progress"), dict):
                values["explore_progress"] = result["explore_progress"]
        if values:
            await self.repo.update_user(user_id=job.subject_id, now=job.updated_at, conn=conn, **values)
