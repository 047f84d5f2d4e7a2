"""ComfyUI tasks on the engine: creating them, pushing them to their agent, and the agent's receipts.

A task is an engine job of kind `comfyui.task`: its `agt_...` id is the job's external_id, its agent the
job's target_node, its expiry the job's deadline (the engine then ends it as `expired`). Pushing (module
`pushing`) leases the job to its agent; a push the agent did not take releases the lease, so the job is
pending again and pushed after the kind's retry delay.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from agenthub.core.errors import LeaseMismatch
from agenthub.core.jobs import Change, Job, JobStatus, KindPolicy, LeaseRef, NewJob
from agenthub.protocols.comfyui.doorbell import Doorbell
from agenthub.protocols.comfyui.errors import (
    ComfyuiError,
    TaskExpired,
    TaskFinished,
    TaskForbidden,
    TaskNotFound,
)
from agenthub.protocols.comfyui.kinds import TASK_KIND
from agenthub.protocols.comfyui.records import Agent, TaskEvent
from agenthub.protocols.comfyui.repository import ComfyuiRepository
from agenthub.protocols.comfyui.settings import ComfyuiSettings
from agenthub.protocols.comfyui.tokens import Issued, TokenService
from agenthub.server.runtime import Runtime

# Pushes are retried until the task's deadline, however many there are: attempts only count pushes.
PUSH_ATTEMPTS = 1_000_000
FINISHED = (JobStatus.SUCCESS, JobStatus.FAILED, JobStatus.CANCELLED)


def task_policy(settings: ComfyuiSettings) -> KindPolicy:
    return KindPolicy(
        exhausted_status=JobStatus.EXPIRED, retry_delay=timedelta(seconds=settings.push_retry_seconds)
    )


def new_task_id(now: datetime) -> str:
    return f"agt_{now:%Y%m%d_%H%M%S}_{secrets.token_hex(4)}"


def is_expired(job: Job, now: datetime) -> bool:
    if job.status is JobStatus.EXPIRED:
        return True
    return not job.status.is_final and job.deadline is not None and job.deadline <= now


class ComfyuiTasks:
    def __init__(
        self,
        runtime: Runtime,
        settings: ComfyuiSettings,
        repo: ComfyuiRepository,
        tokens: TokenService,
        doorbell: Doorbell,
    ) -> None:
        self.runtime = runtime
        self.engine = runtime.engine
        self.settings = settings
        self.repo = repo
        self.tokens = tokens
        self.doorbell = doorbell

    def now(self) -> datetime:
        return self.runtime.clock.now()

    # -- operator ---------------------------------------------------------------------------------------

    async def create(self, agent: Agent, manifest_id: int, *, platform_url: str) -> Job:
        """A pending task; the push loop sends it (woken at once), so the operator never waits on an agent."""
        now = self.now()
        new = NewJob(
            kind=TASK_KIND,
            type="sync",
            payload={"manifest_id": manifest_id, "platform_url": platform_url},
            max_attempts=PUSH_ATTEMPTS,
            external_id=new_task_id(now),
            target_node=agent.agent_id,
            deadline=now + timedelta(seconds=self.settings.task_ttl_seconds),
        )
        job = await self.engine.submit(new)
        assert job is not None  # no dedupe key, so never refused as a duplicate
        self.doorbell.ring()
        return job

    async def task(self, task_id: str) -> Job | None:
        return await self.engine.get_by_external_id(TASK_KIND, task_id)

    # -- pushing (see `pushing`) -----------------------------------------------------------------------

    def task_token(self, job: Job) -> Issued:
        now = self.now()
        ttl = timedelta(seconds=self.settings.task_token_ttl_seconds)
        if job.deadline is not None:
            ttl = min(ttl, job.deadline - now)
        assert job.external_id is not None and job.target_node is not None
        return self.tokens.issue(
            agent_id=job.target_node, task_id=job.external_id, scope="task", now=now, ttl=ttl
        )

    def manifest_url(self, job: Job) -> str:
        """Where the agent downloads the task's manifest: under the platform's public URL, or else under the
        URL the operator created the task at."""
        base = self.settings.public_url or str(job.payload.get("platform_url") or "")
        return f"{base.rstrip('/')}/api/agent/manifests/{job.payload.get('manifest_id')}"

    # -- receipts ---------------------------------------------------------------------------------------

    async def receipt_task(self, *, task_id: str, agent_id: str, token_task_id: str | None) -> Job:
        """The task a receipt is about, refused when it is unknown, foreign or expired."""
        job = await self.task(task_id)
        if job is None:
            raise TaskNotFound(task_id)
        if token_task_id != task_id or job.target_node != agent_id:
            raise TaskForbidden(task_id)
        if is_expired(job, self.now()):
            raise TaskExpired(task_id)
        return job

    async def record_event(
        self,
        job: Job,
        agent_id: str,
        *,
        level: str,
        message: str,
        payload: dict[str, Any],
        progress: int | None,
    ) -> TaskEvent:
        lease = LeaseRef(agent_id)
        if not self.engine.holds_live_lease(job, lease):
            # Ended, or not (or no longer) pushed to this agent.
            raise self._refusal(job)
        written: list[TaskEvent] = []
        now = self.now()
        assert job.external_id is not None

        async def hook(conn: Any, _change: Change) -> None:
            written.append(
                await self.repo.insert_event(
                    conn,
                    job_id=job.id,
                    task_id=job.external_id or "",
                    level=level,
                    message=message,
                    payload=payload,
                    now=now,
                )
            )

        try:
            if job.status is JobStatus.LEASED:
                await self.engine.start(
                    job.id, lease, lease_for=self._until_deadline(job), message=message, hook=hook
                )
                if progress is not None:
                    await self.engine.progress(job.id, lease, percent=progress, message=message)
            else:
                percent = progress if progress is not None else job.progress or 0
                await self.engine.progress(job.id, lease, percent=percent, message=message, hook=hook)
        except LeaseMismatch as exc:
            raise self._refusal(await self.engine.get(job.id)) from exc
        return written[0]

    async def complete(self, job: Job, agent_id: str, *, result: dict[str, Any], message: str | None) -> Job:
        if job.status in FINISHED and job.status is not JobStatus.SUCCESS:
            raise TaskFinished(job.external_id)
        try:
            change = await self.engine.complete(job.id, LeaseRef(agent_id), result=result, message=message)
        except LeaseMismatch as exc:
            raise self._refusal(await self.engine.get(job.id)) from exc
        return change.job

    async def fail(
        self, job: Job, agent_id: str, *, error_code: str | None, message: str | None, result: dict[str, Any]
    ) -> Job:
        if job.status in FINISHED and job.status is not JobStatus.FAILED:
            raise TaskFinished(job.external_id)
        try:
            change = await self.engine.fail(
                job.id,
                LeaseRef(agent_id),
                error_code=error_code,
                message=message,
                result=result,
                retryable=False,  # the agent already tried; an operator creates a new task to retry
            )
        except LeaseMismatch as exc:
            raise self._refusal(await self.engine.get(job.id)) from exc
        return change.job

    def _refusal(self, job: Job) -> ComfyuiError:
        """Why the agent may not write to the task: its time is up, it ended, or it is not the holder."""
        if is_expired(job, self.now()):
            return TaskExpired(job.external_id)
        if job.status in FINISHED:
            return TaskFinished(job.external_id)
        return TaskForbidden(job.external_id)

    def _until_deadline(self, job: Job) -> timedelta:
        if job.deadline is None:
            return timedelta(seconds=self.settings.task_ttl_seconds)
        return max(job.deadline - self.now(), timedelta(0))
