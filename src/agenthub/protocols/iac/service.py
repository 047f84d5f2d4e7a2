"""The IaC task operations: what agents do to their tasks (data, log chunks, status, state) and what
operators do (applications, agents, workspaces, tasks, cancel, live logs). Raises domain errors only."""

from __future__ import annotations

import hmac
import json
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from agenthub.bus import Bus
from agenthub.core.engine import Engine
from agenthub.core.errors import EngineError, InvalidTransition
from agenthub.core.jobs import Change, Job, JobQuery, JobStatus, LeaseRef, NewJob
from agenthub.core.ports import TxHook
from agenthub.protocols.iac.channels import AGENT_KIND, CONTROL, TASK_KIND, WAKE
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
    Workspace,
)
from agenthub.protocols.iac.repository import IacRepository, sha256_hex
from agenthub.protocols.iac.schemas import LogChunkIn, StateIn, StatusIn, TaskIn, WorkspaceIn
from agenthub.protocols.iac.security import Caller, hash_secret, new_app_key, new_app_secret
from agenthub.protocols.iac.settings import IacSettings

log = logging.getLogger(__name__)

HELD = (JobStatus.LEASED, JobStatus.RUNNING)
SUCCESS_STATUSES = frozenset({"success", "applied", "planned_and_finished", "apply_pending"})


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def wire_status(job: Job, task: TaskRecord) -> str:
    """The task's IaC status; the engine's word wins where the agent never got to say it (a lost agent's
    task back in the queue, or out of attempts; an operator's cancel)."""
    if job.status is JobStatus.CANCELLED:
        return "cancelled"
    if job.status is JobStatus.PENDING:
        return "pending"
    if job.status in (JobStatus.FAILED, JobStatus.EXPIRED) and task.status not in FINAL_STATUSES:
        return "failed"
    return task.status


class IacTasks:
    def __init__(self, engine: Engine, bus: Bus, repo: IacRepository, settings: IacSettings) -> None:
        self.engine = engine
        self.bus = bus
        self.repo = repo
        self.settings = settings
        self.lease_for = timedelta(seconds=settings.lease_seconds)

    def now(self) -> datetime:
        return self.engine.clock.now()

    async def wake(self) -> None:
        await self._publish(WAKE, {})

    async def send_to_agent(self, agent_id: str, kind: str, payload: dict[str, Any]) -> None:
        await self._publish(CONTROL, {"agent_id": agent_id, "message": {"type": kind, "payload": payload}})

    async def _publish(self, channel: str, message: dict[str, Any]) -> None:
        try:
            await self.bus.publish(channel, message)
        except Exception:  # live only: the dispatcher's safety net and the database cover a lost message
            log.exception("could not publish on %s", channel)

    # -- operator: applications, agents, workspaces ---------------------------------------------------------

    async def create_application(self, name: str) -> dict[str, Any]:
        key, secret = new_app_key(), new_app_secret()
        app_id = await self.repo.create_application(
            name=name, app_key=key, secret_hash=hash_secret(secret), now=self.now()
        )
        return {"id": app_id, "name": name, "app_key": key, "app_secret": secret}

    async def register_agent(self, agent_id: str, application_id: int, name: str | None) -> dict[str, Any]:
        if not await self.repo.application_exists(application_id):
            raise NotFound("application not found")
        if await self.repo.agent(agent_id) is not None:
            raise Refused("agent already exists")
        await self.repo.create_agent(
            agent_id=agent_id, application_id=application_id, name=name, now=self.now()
        )
        return {"agent_id": agent_id, "application_id": application_id, "name": name}

    async def agents_view(self) -> list[dict[str, Any]]:
        nodes = {node.node_id: node for node in await self.engine.nodes(AGENT_KIND)}
        views = []
        for agent in await self.repo.list_agents():
            node = nodes.get(agent.agent_id)
            online = node is not None and self.engine.is_online(node)
            info = (node.info or {}) if node is not None else {}
            views.append(
                {
                    "agent_id": agent.agent_id,
                    "application_id": agent.application_id,
                    "name": agent.name,
                    "connected": online,
                    "online": online,
                    "last_heartbeat_at": iso(node.last_seen_at) if node is not None else None,
                    "load": info.get("load"),
                }
            )
        return views

    async def create_workspace(self, body: WorkspaceIn) -> dict[str, Any]:
        if not await self.repo.application_exists(body.application_id):
            raise NotFound("application not found")
        for filename in body.tf_code:
            if not filename or "/" in filename or "\\" in filename or filename.startswith("."):
                raise BadRequest(f"invalid request body: tf_code file name {filename!r} is not allowed")
        workspace_id = body.workspace_id or "ws-" + secrets.token_hex(8)
        if await self.repo.workspace(workspace_id) is not None:
            raise Refused("workspace already exists")
        await self.repo.create_workspace(
            {
                "workspace_id": workspace_id,
                "name": body.name,
                "application_id": body.application_id,
                "terraform_version": body.terraform_version,
                "execution_mode": body.execution_mode,
                "provider_config": body.provider_config,
                "tf_code": body.tf_code,
                "system_variables": body.system_variables,
                "variables": [variable.model_dump() for variable in body.variables],
            },
            now=self.now(),
        )
        return await self.workspace_view(workspace_id)

    async def workspace(self, workspace_id: str) -> Workspace:
        workspace = await self.repo.workspace(workspace_id)
        if workspace is None:
            raise NotFound("workspace not found")
        return workspace

    async def workspace_view(self, workspace_id: str) -> dict[str, Any]:
        ws = await self.workspace(workspace_id)
        return {
            "workspace_id": ws.workspace_id,
            "name": ws.name,
            "application_id": ws.application_id,
            "terraform_version": ws.terraform_version,
            "execution_mode": ws.execution_mode,
            "provider_config": ws.provider_config,
            "tf_code": ws.tf_code,
            "system_variables": ws.system_variables,
            "variables": [variable.as_dict(reveal=False) for variable in ws.variables],
            "current_state_version": ws.current_state_version,
            "created_at": iso(ws.created_at),
        }

    # -- operator: tasks -------------------------------------------------------------------------------------

    async def create_task(self, workspace_id: str, body: TaskIn) -> dict[str, Any]:
        ws = await self.workspace(workspace_id)
        now = self.now()

        async def side_row(conn: AsyncConnection, change: Change) -> None:
            await IacRepository.insert_task(
                conn,
                {
                    "job_id": change.job.id,
                    "workspace_id": ws.workspace_id,
                    "task_type": body.task_type,
                    "status": "pending",
                    "context": body.context,
                    "created_at": now,
                    "updated_at": now,
                },
            )

        job = await self.engine.submit(
            NewJob(
                kind=TASK_KIND,
                type=body.task_type,
                payload={"workspace_id": ws.workspace_id},
                max_attempts=self.settings.max_attempts,
                owner_id=ws.application_id,
                subject_id=ws.pk,
            ),
            hook=side_row,
        )
        assert job is not None  # no dedupe key, so never refused
        await self.wake()
        return await self.task_view(job.id)

    async def _task(self, task_id: int) -> tuple[Job, TaskRecord]:
        job = await self.engine.get(task_id)
        task = await self.repo.task(task_id) if job.kind == TASK_KIND else None
        if task is None:
            raise NotFound("task not found")
        return job, task

    async def require_task(self, task_id: int) -> None:
        await self._task(task_id)

    async def task_view(self, task_id: int, *, events: bool = False) -> dict[str, Any]:
        job, task = await self._task(task_id)
        outputs = await self.repo.outputs(task_id)
        view: dict[str, Any] = {
            "id": job.id,
            "workspace_id": task.workspace_id,
            "task_type": task.task_type,
            "status": wire_status(job, task),
            "stage": task.stage,
            "changes_add": task.changes_add,
            "changes_change": task.changes_change,
            "changes_destroy": task.changes_destroy,
            "duration": task.duration,
            "error_message": task.error_message or (job.message if job.status.is_final else None),
            "agent_id": job.leased_by,
            "attempts": job.attempts,
            "plan_output": outputs["plan_output"],
            "apply_output": outputs["apply_output"],
            "context": task.context,
            "created_at": iso(task.created_at),
            "updated_at": iso(task.updated_at),
            "completed_at": iso(task.completed_at),
        }
        if events:
            view["events"] = [
                {"type": e.type, "node_id": e.node_id, "message": e.message, "created_at": iso(e.created_at)}
                for e in await self.engine.events(task_id)
            ]
        return view

    async def cancel_task(self, task_id: int) -> dict[str, Any]:
        job, _task = await self._task(task_id)
        holder = job.leased_by if job.status in HELD else None
        now = self.now()

        async def mark(conn: AsyncConnection, _change: Change) -> None:
            await IacRepository.update_task(
                conn, task_id, {"status": "cancelled", "completed_at": now, "updated_at": now}
            )

        try:
            await self.engine.cancel(task_id, reason="cancelled by the operator", hook=mark)
        except InvalidTransition as exc:
            raise Refused(f"task is already {wire_status(job, _task)}") from exc
        if holder is not None:
            await self.send_to_agent(holder, "cancel_task", {"task_id": task_id})
        await self.wake()
        return await self.task_view(task_id)

    async def realtime(self, task_id: int, enabled: bool) -> dict[str, Any]:
        job, _task = await self._task(task_id)
        if job.status not in HELD or job.leased_by is None:
            raise Refused("task is not running on an agent")
        kind = "start_realtime_stream" if enabled else "stop_realtime_stream"
        await self.send_to_agent(job.leased_by, kind, {"task_id": task_id})
        return {"task_id": task_id, "agent_id": job.leased_by, "enabled": enabled}

    async def state_versions(self, workspace_id: str) -> list[dict[str, Any]]:
        await self.workspace(workspace_id)
        return [
            {
                "version": v.version,
                "checksum": v.checksum,
                "size": v.size,
                "task_id": v.task_id,
                "created_at": iso(v.created_at),
            }
            for v in await self.repo.state_versions(workspace_id)
        ]

    async def state_version(self, workspace_id: str, version: int) -> dict[str, Any]:
        found = await self.repo.state_version(workspace_id, version)
        if found is None:
            raise NotFound("state version not found")
        return {
            "version": found.version,
            "content": found.content,
            "checksum": found.checksum,
            "size": found.size,
            "agent_checksum": found.agent_checksum,
            "task_id": found.task_id,
            "created_at": iso(found.created_at),
        }

    # -- agent: its tasks ------------------------------------------------------------------------------------

    async def _assigned(self, caller: Caller, task_id: int) -> tuple[Job, TaskRecord]:
        """The task, if the calling agent holds it or was its last holder (403 otherwise)."""
        job, task = await self._task(task_id)
        if job.leased_by != caller.agent_id or job.status is JobStatus.PENDING:
            raise Forbidden("task is not assigned to this agent")
        return job, task

    async def task_data(self, caller: Caller, task_id: int) -> dict[str, Any]:
        job, task = await self._assigned(caller, task_id)
        ws = await self.workspace(task.workspace_id)
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
                    "content": _as_object(state.content),
                    "checksum": state.checksum,
                    "size": state.size,
                }
        return data

    async def append_log(self, caller: Caller, task_id: int, body: LogChunkIn) -> ChunkResult:
        if body.phase not in LOG_PHASES:
            raise BadRequest(f"invalid request body: unknown phase {body.phase!r}")
        await self._assigned(caller, task_id)
        data = body.content.encode("utf-8")
        if body.checksum and not hmac.compare_digest(body.checksum.lower(), sha256_hex(data)):
            raise BadRequest("checksum mismatch")
        # The original agent sends offset 0 and no checksum on every chunk: that means "append".
        append = body.offset == 0 and not body.checksum
        return await self.repo.append_chunk(
            task_id, body.phase, data, offset=None if append else body.offset, now=self.now()
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
                return _status_answer(task_id, body.status)
            raise _bad_transition(current, body.status)
        if body.status not in AGENT_STATUSES:
            raise _bad_transition(current, body.status)
        await self._move(caller, job, body, current)
        if body.status in FINAL_STATUSES:
            await self.wake()
        return _status_answer(task_id, body.status)

    async def _move(self, caller: Caller, job: Job, body: StatusIn, current: str) -> None:
        now = self.now()
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
                raise _bad_transition(current, body.status)

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
            now=self.now(),
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
        return reported - {job.id for job in held}

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
                values = {"status": "failed", "error_message": reason, "completed_at": self.now()}
            await self.repo.set_task(job.id, {**values, "updated_at": self.now()})
        await self.wake()

    async def agent_finished(self, agent_id: str, task_id: int, error: str | None) -> None:
        """`task_completed` / `task_failed`: ends the task if the agent never reported a final status."""
        try:
            job = await self.engine.get(task_id)
        except EngineError:
            return
        if job.kind != TASK_KIND or job.status not in HELD or job.leased_by != agent_id:
            return
        now = self.now()
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
        await self.wake()


def _as_object(content: str) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return content


def _bad_transition(current: str, wanted: str) -> Refused:
    return Refused(f"invalid status transition from {current} to {wanted}", current_status=current)


def _status_answer(task_id: int, status: str) -> dict[str, Any]:
    return {"message": "task status updated", "task_id": task_id, "status": status}
