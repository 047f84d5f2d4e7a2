"""The IaC task operations operators drive (applications, agents, workspaces, tasks, cancel, live logs,
state versions), and what the agent side shares with them (task records, the IaC status a task shows, bus
messages to agents and dispatchers). Raises domain errors only; `agent_tasks` holds the agents' side."""

from __future__ import annotations

import json
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from agenthub.bus import Bus
from agenthub.core.engine import Engine
from agenthub.core.errors import InvalidTransition
from agenthub.core.jobs import Change, Job, JobStatus, NewJob
from agenthub.protocols.iac.channels import AGENT_KIND, CONTROL, TASK_KIND, WAKE
from agenthub.protocols.iac.errors import BadRequest, NotFound, Refused
from agenthub.protocols.iac.records import (
    FINAL_STATUSES,
    TaskRecord,
    Workspace,
)
from agenthub.protocols.iac.repository import IacRepository
from agenthub.protocols.iac.schemas import TaskIn, WorkspaceIn
from agenthub.protocols.iac.security import hash_secret, new_app_key, new_app_secret
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

    async def records(self, task_id: int) -> tuple[Job, TaskRecord]:
        job = await self.engine.get(task_id)
        task = await self.repo.task(task_id) if job.kind == TASK_KIND else None
        if task is None:
            raise NotFound("task not found")
        return job, task

    async def require_task(self, task_id: int) -> None:
        await self.records(task_id)

    async def task_view(self, task_id: int, *, events: bool = False) -> dict[str, Any]:
        job, task = await self.records(task_id)
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
        job, _task = await self.records(task_id)
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
        job, _task = await self.records(task_id)
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


def as_object(content: str) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return content


def bad_transition(current: str, wanted: str) -> Refused:
    return Refused(f"invalid status transition from {current} to {wanted}", current_status=current)


def status_answer(task_id: int, status: str) -> dict[str, Any]:
    return {"message": "task status updated", "task_id": task_id, "status": status}
