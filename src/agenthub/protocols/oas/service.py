"""Oas task jobs (kind `oas.task`) on the shared engine: the manager's queue, and what a report changes.

`OasJobs` is built with what a report sets off, so reading `complete`/`fail` shows all of it:
- inside the job's transaction: the result copied onto the user, then `in_report_tx` (the scheduler moving
  the task's next_time on);
- after the commit: `after_report` (the WeChat notifier), which never fails the agent's call.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from agenthub.core.errors import JobNotFound
from agenthub.core.jobs import Change, Job, JobFilter, JobStatus, KindPolicy, LeaseRef, NewJob
from agenthub.core.nodes import NodeSighting
from agenthub.core.ports import TxHook
from agenthub.protocols.oas.records import Recipient
from agenthub.protocols.oas.users_store import UsersStore
from agenthub.server.runtime import Runtime

log = logging.getLogger(__name__)

TASK_KIND = "oas.task"
NODE_KIND = "oas"
# Retrying cannot fix these: the job fails at once (issue "Engine, storage and the Oas2.0 agent job API").
NON_RETRYABLE = frozenset({"LOCAL_ACCOUNT_NOT_MAPPED", "LOCAL_ACCOUNT_MISSING", "TASK_TYPE_INVALID"})
TASK_POLICY = KindPolicy(non_retryable_errors=NON_RETRYABLE)

# After a report commits: the change, and the user as the report's transaction left it (None when the
# report changed nothing on the user, so the step reads the user itself if it needs it).
AfterReport = Callable[[Change, Recipient | None], Awaitable[None]]


def owned_by(manager_id: int) -> Any:
    def guard(job: Job) -> None:
        if job.kind != TASK_KIND or job.owner_id != manager_id:
            raise JobNotFound(job.id)

    return guard


def task_job(
    *,
    manager_id: int,
    user_id: int,
    task_type: str,
    payload: dict[str, Any],
    priority: int,
    max_attempts: int,
    scheduled_at: datetime | None = None,
    dedupe_key: str | None = None,
) -> NewJob:
    """A task job for one of the manager's users (the manager's routes and the scheduler submit these)."""
    return NewJob(
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


async def _nothing_in_tx(_conn: AsyncConnection, _change: Change) -> None:
    return None


async def _nothing_after(_change: Change, _user: Recipient | None) -> None:
    return None


class OasJobs:
    def __init__(
        self,
        runtime: Runtime,
        users: UsersStore,
        *,
        in_report_tx: TxHook = _nothing_in_tx,
        after_report: AfterReport = _nothing_after,
    ) -> None:
        self.runtime = runtime
        self.engine = runtime.engine
        self.users = users
        self.in_report_tx = in_report_tx
        self.after_report = after_report

    async def node_seen(self, *, manager_id: int, node_id: str, version: str | None = None) -> None:
        await self.engine.node_seen(
            NodeSighting(kind=NODE_KIND, node_id=node_id, owner_id=manager_id, version=version)
        )

    async def node_is_free_for(self, *, manager_id: int, node_id: str) -> bool:
        """True unless another manager's agent already registered this node id."""
        node = await self.engine.node(NODE_KIND, node_id)
        return node is None or node.owner_id == manager_id

    async def submit(self, new: NewJob) -> Job | None:
        return await self.engine.submit(new)

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
        report = _Report(self)
        change = await self.engine.complete(
            job_id,
            LeaseRef(node_id),
            result=result,
            message=message,
            guard=owned_by(manager_id),
            hook=report.in_tx,
        )
        await self._after_report(change, report.user)
        return change

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
        report = _Report(self)
        change = await self.engine.fail(
            job_id,
            LeaseRef(node_id),
            error_code=error_code,
            message=message,
            result=result,
            guard=owned_by(manager_id),
            hook=report.in_tx,
        )
        await self._after_report(change, report.user)
        return change

    async def job(self, *, manager_id: int, job_id: int) -> Job:
        job = await self.engine.get(job_id)
        owned_by(manager_id)(job)
        return job

    async def _after_report(self, change: Change, user: Recipient | None) -> None:
        """Runs what follows a committed complete/fail; never fails the agent's call."""
        if not change.changed:
            return
        try:
            await self.after_report(change, user)
        except Exception:
            log.exception("after-report step failed for job %s", change.job.id)

    async def _copy_result(self, conn: AsyncConnection, change: Change) -> Recipient | None:
        """Writes what the agent reported onto the user, in the job's own transaction; returns the user's
        reminder settings as the report leaves them (None when the report carries nothing for the user)."""
        job, result = change.job, change.job.result or {}
        if job.subject_id is None or not isinstance(result, dict):
            return None
        values: dict[str, Any] = {}
        if isinstance(result.get("account_status"), str) and result["account_status"]:
            values["archive_status"] = result["account_status"][:32]
        if job.status is JobStatus.SUCCESS:
            if isinstance(result.get("assets"), dict):
                values["assets"] = result["assets"]
            if isinstance(result.get("explore_progress"), dict):
                values["explore_progress"] = result["explore_progress"]
        if not values:
            return None
        return await self.users.update_reported(
            user_id=job.subject_id, now=job.updated_at, conn=conn, **values
        )


class _Report:
    """One complete/fail: the hook run in the job's transaction, and the user row it wrote (handed to the
    after-report step, which then needs no read of its own)."""

    def __init__(self, jobs: OasJobs) -> None:
        self.jobs = jobs
        self.user: Recipient | None = None

    async def in_tx(self, conn: AsyncConnection, change: Change) -> None:
        self.user = await self.jobs._copy_result(conn, change)
        await self.jobs.in_report_tx(conn, change)
