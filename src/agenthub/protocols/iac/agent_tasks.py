"""What agents do to their tasks: read the task's data, send log chunks, report status, save state; and
what their C&C messages mean for the tasks they hold (lease renewal, release, task_completed/failed)."""

from __future__ import annotations

import hmac
import json
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from agenthub.core.engine import Engine
from agenthub.core.errors import EngineError
from agenthub.core.jobs import Change, Job, JobQuery, JobStatus, LeaseRef
from agenthub.core.ports import TxHook
from agenthub.protocols.iac.channels import TASK_KIND
from agenthub.protocols.iac.errors import BadRequest, Forbidden, NotFound, Refused
from agenthub.protocols.iac.records import (
    AGENT_STATUSES,
    COMPLETED_AT_STATUSES,
    FINAL_STATUSES,
    LOG_PHASES,
    STAGES,
    STATUSES,
    ChunkResult,
    TaskRecord,
)
from agenthub.protocols.iac.repository import IacRepository, sha256_hex
from agenthub.protocols.iac.schemas import LogChunkIn, StateIn, StatusIn
from agenthub.protocols.iac.security import Caller
from agenthub.protocols.iac.service import (
    HELD,
    SUCCESS_STATUSES,
    IacTasks,
    as_object,
    bad_transition,
    iso,
    status_answer,
    wire_status,
)

LOST = (JobStatus.PENDING, JobStatus.CANCELLED)


class AgentTasks:
    def __init__(self, tasks: IacTasks) -> None:
        self.tasks = tasks
        self.engine: Engine = tasks.engine
        self.repo: IacRepository = tasks.repo
        self.lease_for: timedelta = tasks.lease_for

    # -- REST ------------------------------------------------------------------------------------

    async def _assigned(self, caller: Caller, task_id: int) -> tuple[Job, TaskRecord]:
        """The task, if the calling agent holds it or was its last holder (403 otherwise)."""
        job, task = await self.tasks.records(task_id)
        _require_assigned(caller, job)
        return job, task

    async def task_data(self, caller: Caller, task_id: int) -> dict[str, Any]:
        job, task = await self._assigned(caller, task_id)
        ws = await self.tasks.workspace(task.workspace_id)
        holds = job.status in HELD  # sensitive values go only to the agent running the task
        data: dict[str, Any] = {
            "task": {
                "id": job.id,
                "workspace_id": task.workspace_id,
                "task_type": task.task_type,
                "action": task.task_type,
                "context": task.context or {},
                "created_at": iso(task.created_at),
                "plan_task_id": None,
                "agent_id": job.leased_by,
            },
            "workspace": {
                "workspace_id": ws.workspace_id,
                "name": ws.name,
                "terraform_version": ws.terraform_version,
                "execution_mode": ws.execution_mode,
                "provider_config": ws.provider_config or {},
                "tf_code": ws.tf_code,
                "system_variables": ws.system_variables or {},
                "terraform_lock_hcl": None,
            },
            "resources": [],
            "variables": [variable.as_dict(reveal=holds) for variable in ws.variables],
            "outputs": [],
            "remote_data": [],
            "module_versions": [],
        }
        if ws.current_state_version is not None:
            state = await self.repo.state_version(ws.workspace_id, ws.current_state_version)
            if state is not None:
                data["state_version"] = {
                    "version": state.version,
                    "content": as_object(state.content),
                    "checksum": state.checksum,
                    "size": state.size,
                }
        return data

    async def append_log(self, caller: Caller, task_id: int, body: LogChunkIn) -> ChunkResult:
        if body.phase not in LOG_PHASES:
            raise BadRequest(f"invalid request body: unknown phase {body.phase!r}")
        job = await self.engine.get(task_id)  # the chunk's own transaction checks the task row exists
        if job.kind != TASK_KIND:
            raise NotFound("task not found")
        _require_assigned(caller, job)
        data = body.content.encode("utf-8")
        if body.checksum and not hmac.compare_digest(body.checksum.lower(), sha256_hex(data)):
            raise BadRequest("checksum mismatch")
        # The original agent sends offset 0 and no checksum on every chunk: that means "append".
        append = body.offset == 0 and not body.checksum
        return await self.repo.append_chunk(
            task_id, body.phase, data, offset=None if append else body.offset, now=self.tasks.now()
        )

    async def update_status(self, caller: Caller, task_id: int, body: StatusIn) -> dict[str, Any]:
        if body.status not in STATUSES:
            raise BadRequest(f"invalid status: {body.status}")
        if body.stage is not None and body.stage != "" and body.stage not in STAGES:
            raise BadRequest(f"invalid stage: {body.stage}")
        job, task = await self._assigned(caller, task_id)
        if job.status is JobStatus.CANCELLED:
            raise Refused("task has been cancelled, status update rejected", current_status="cancelled")
        current = wire_status(job, task)
        if current in FINAL_STATUSES or job.status.is_final:
            if current == body.status:
                return status_answer(task_id, body.status)
            raise bad_transition(current, body.status)
        if body.status not in AGENT_STATUSES:
            raise bad_transition(current, body.status)
        await self._move(caller, job, body, current)
        if body.status in FINAL_STATUSES:
            await self.tasks.wake()
        return status_answer(task_id, body.status)

    async def _move(self, caller: Caller, job: Job, body: StatusIn, current: str) -> None:
        now = self.tasks.now()
        values: dict[str, Any] = {"status": body.status, "updated_at": now}
        for name in (
            "stage",
            "error_message",
            "changes_add",
            "changes_change",
            "changes_destroy",
            "duration",
        ):
            value = getattr(body, name)
            if value is not None:
                values[name] = value
        if body.context is not None:
            values["context"] = body.context
        if body.status in COMPLETED_AT_STATUSES:
            values["completed_at"] = now

        async def write(conn: AsyncConnection, _change: Change) -> None:
            await IacRepository.update_task(conn, job.id, values)

        def not_final(locked: Job) -> None:
            if locked.status.is_final:
                raise bad_transition(current, body.status)

        lease = LeaseRef(caller.agent_id, job.lease_epoch)
        engine = self.engine
        if body.status in SUCCESS_STATUSES - {"apply_pending"}:
            await engine.complete(job.id, lease, message=body.status, hook=write, guard=not_final)
        elif body.status == "failed":
            await engine.fail(
                job.id, lease, message=body.error_message, retryable=False, hook=write, guard=not_final
            )
        elif body.status == "cancelled":
            await engine.cancel(job.id, reason="cancelled by the agent", hook=write, guard=not_final)
        elif job.status is JobStatus.LEASED:
            await engine.start(job.id, lease, lease_for=self.lease_for, hook=write, guard=not_final)
        else:
            await engine.heartbeat(job.id, lease, lease_for=self.lease_for, hook=write, guard=not_final)

    async def save_state(self, caller: Caller, task_id: int, body: StateIn) -> int:
        job, task = await self._assigned(caller, task_id)
        if job.status not in HELD:
            raise Refused(f"task is {wire_status(job, task)}")
        if isinstance(body.content, str):
            content = body.content
            data = content.encode("utf-8")
            if body.size != len(data):
                raise BadRequest(f"size mismatch: content has {len(data)} bytes")
            if not hmac.compare_digest(body.checksum.lower(), sha256_hex(data)):
                raise BadRequest("checksum mismatch")
            try:
                json.loads(content)
            except ValueError:
                raise BadRequest("state content is not valid JSON") from None
        else:
            # The original agent hashes the file but sends the parsed object: its checksum cannot be
            # checked against these bytes, so it is kept as given beside our own.
            content = json.dumps(body.content, indent=2, ensure_ascii=False)
        return await self.repo.save_state(
            workspace_id=task.workspace_id,
            content=content,
            agent_checksum=body.checksum,
            agent_size=body.size,
            task_id=task_id,
            now=self.tasks.now(),
        )

    # -- agent: C&C messages ---------------------------------------------------------------------------------

    async def held_by(self, agent_id: str) -> list[Job]:
        query = JobQuery(kind=TASK_KIND, statuses=HELD, leased_by=agent_id, order="oldest")
        found, _ = await self.engine.find(query, limit=1000)
        return found

    async def renew(self, agent_id: str, reported: set[int]) -> set[int]:
        """A heartbeat keeps alive the leases of the tasks it lists as running, and returns the listed
        tasks the agent no longer holds (it should stop them). A held task the agent does not list (its
        process restarted, or it dropped the task) keeps only what is left of its lease; then the engine
        puts it back in the queue: nothing stays held by an agent that forgot it."""
        held = await self.held_by(agent_id)
        for job in held:
            if job.id not in reported:
                continue
            try:
                await self.engine.heartbeat(
                    job.id, LeaseRef(agent_id, job.lease_epoch), lease_for=self.lease_for
                )
            except EngineError:
                continue
        unknown = reported - {job.id for job in held}
        if not unknown:
            return set()
        # Only work that is someone else's now (back in the queue, leased again, cancelled); a task this
        # agent just finished may still be listed while it wraps up.
        found, _ = await self.engine.find(JobQuery(kind=TASK_KIND, ids=tuple(sorted(unknown))), limit=1000)
        return {job.id for job in found if job.status in LOST or job.leased_by != agent_id}

    async def release_all(self, agent_id: str, reason: str) -> None:
        """The agent's C&C connection is gone: each of its tasks goes back to the queue (or fails)."""
        for job in await self.held_by(agent_id):
            try:
                change = await self.engine.release(job.id, LeaseRef(agent_id, job.lease_epoch), reason=reason)
            except EngineError:
                continue
            if change.job.status is JobStatus.PENDING:
                values: dict[str, Any] = {"status": "pending", "stage": None}
            else:
                values = {"status": "failed", "error_message": reason, "completed_at": self.tasks.now()}
            await self.repo.set_task(job.id, {**values, "updated_at": self.tasks.now()})
        await self.tasks.wake()

    async def agent_finished(self, agent_id: str, task_id: int, error: str | None) -> None:
        """`task_completed` / `task_failed`: ends the task if the agent never reported a final status."""
        try:
            job = await self.engine.get(task_id)
        except EngineError:
            return
        if job.kind != TASK_KIND or job.status not in HELD or job.leased_by != agent_id:
            return
        now = self.tasks.now()
        lease = LeaseRef(agent_id, job.lease_epoch)
        status = "success" if error is None else "failed"
        values: dict[str, Any] = {"status": status, "completed_at": now, "updated_at": now}
        if error is not None:
            values["error_message"] = error

        async def write(conn: AsyncConnection, _change: Change) -> None:
            await IacRepository.update_task(conn, task_id, values)

        hook: TxHook = write
        try:
            if error is None:
                await self.engine.complete(task_id, lease, message=status, hook=hook)
            else:
                await self.engine.fail(task_id, lease, message=error, retryable=False, hook=hook)
        except EngineError:
            return
        await self.tasks.wake()


def _require_assigned(caller: Caller, job: Job) -> None:
    """The calling agent holds the task or was its last holder (a task back in the queue is no one's)."""
    if job.leased_by != caller.agent_id or job.status is JobStatus.PENDING:
        raise Forbidden("task is not assigned to this agent")
