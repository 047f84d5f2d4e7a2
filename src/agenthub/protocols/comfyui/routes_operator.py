"""Operator endpoints (ours, not the seed's), under /api/agent/operator, all behind `X-Admin-Key`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request

from agenthub.core.errors import Conflict
from agenthub.core.jobs import Job, JobQuery, JobStatus
from agenthub.protocols.comfyui import errors
from agenthub.protocols.comfyui.context import Comfy, ComfyuiContext
from agenthub.protocols.comfyui.errors import AgentError
from agenthub.protocols.comfyui.records import Agent
from agenthub.protocols.comfyui.repository import TASK_KIND
from agenthub.protocols.comfyui.schemas import (
    AgentIn,
    AgentPatch,
    AgentTokenIn,
    ManifestIn,
    ManifestVersionIn,
    TaskIn,
)
from agenthub.protocols.comfyui.security import require_admin
from agenthub.protocols.comfyui.service import wire_status
from agenthub.protocols.comfyui.wire import (
    agent_out,
    event_out,
    fmt_time,
    manifest_admin_out,
    task_out,
)

ONLINE_WINDOW = timedelta(seconds=120)


async def _admin(request: Request, comfy: Comfy) -> None:
    require_admin(request, comfy)


def router() -> APIRouter:
    api = APIRouter(prefix="/api/agent/operator", dependencies=[Depends(_admin)])

    @api.post("/agents", status_code=201)
    async def register(body: AgentIn, comfy: Comfy) -> dict[str, Any]:
        try:
            agent = await comfy.repo.insert_agent(
                agent_id=body.agent_id, base_url=body.base_url, allowed=body.allowed, now=comfy.tasks.now()
            )
        except Conflict as exc:
            raise AgentError(errors.AGENT_EXISTS) from exc
        return agent_out(agent, online=False)

    @api.get("/agents")
    async def agents(comfy: Comfy) -> dict[str, Any]:
        found = await comfy.repo.list_agents()
        return {"items": [await _agent_view(comfy, agent) for agent in found]}

    @api.get("/agents/{agent_id}")
    async def agent(agent_id: str, comfy: Comfy) -> dict[str, Any]:
        return await _agent_view(comfy, await _agent(comfy, agent_id))

    @api.patch("/agents/{agent_id}")
    async def move(agent_id: str, body: AgentPatch, comfy: Comfy) -> dict[str, Any]:
        return await _update(comfy, agent_id, base_url=body.base_url)

    @api.post("/agents/{agent_id}/allow")
    async def allow(agent_id: str, comfy: Comfy) -> dict[str, Any]:
        return await _update(comfy, agent_id, allowed=True)

    @api.post("/agents/{agent_id}/disable")
    async def disable(agent_id: str, comfy: Comfy) -> dict[str, Any]:
        return await _update(comfy, agent_id, allowed=False)

    @api.post("/agents/{agent_id}/tokens", status_code=201)
    async def agent_token(agent_id: str, body: AgentTokenIn, comfy: Comfy) -> dict[str, Any]:
        await _agent(comfy, agent_id)
        issued = comfy.tokens.issue(
            agent_id=agent_id,
            task_id=None,
            scope="agent",
            now=comfy.tasks.now(),
            ttl=comfy.agent_token_ttl(body.ttl_seconds),
        )
        return {
            "token": issued.token,
            "agentId": agent_id,
            "scope": "agent",
            "expiresAt": fmt_time(issued.expires_at),
        }

    @api.post("/manifests", status_code=201)
    async def create_manifest(body: ManifestIn, comfy: Comfy) -> dict[str, Any]:
        return await _insert_manifest(comfy, body.name, body.role, body.version, body.content.model_dump())

    @api.post("/manifests/{manifest_id}/versions", status_code=201)
    async def new_version(manifest_id: int, body: ManifestVersionIn, comfy: Comfy) -> dict[str, Any]:
        base = await comfy.repo.manifest(manifest_id)
        if base is None:
            raise AgentError(errors.MANIFEST_NOT_FOUND)
        role = body.role or base.role
        return await _insert_manifest(comfy, base.name, role, body.version, body.content.model_dump())

    @api.get("/manifests")
    async def manifests(comfy: Comfy, name: str | None = None) -> dict[str, Any]:
        return {"items": [manifest_admin_out(m) for m in await comfy.repo.list_manifests(name=name)]}

    @api.get("/manifests/{manifest_id}")
    async def manifest(manifest_id: int, comfy: Comfy) -> dict[str, Any]:
        found = await comfy.repo.manifest(manifest_id)
        if found is None:
            raise AgentError(errors.MANIFEST_NOT_FOUND)
        return manifest_admin_out(found)

    @api.post("/tasks", status_code=201)
    async def create_task(body: TaskIn, comfy: Comfy) -> dict[str, Any]:
        target = await _agent(comfy, body.agent_id)
        if not target.allowed:
            raise AgentError(errors.AGENT_NOT_ALLOWED)
        if await comfy.repo.manifest(body.manifest_id) is None:
            raise AgentError(errors.MANIFEST_NOT_FOUND)
        job = await comfy.tasks.create(target, body.manifest_id)
        return task_out(job, wire_status(job))

    @api.get("/tasks")
    async def tasks(
        comfy: Comfy, agent_id: str | None = None, status: str | None = None, limit: int = 100
    ) -> dict[str, Any]:
        statuses = _statuses(status)
        found, total = await comfy.runtime.engine.find(
            JobQuery(kind=TASK_KIND, statuses=statuses, target_node=agent_id), limit=min(max(limit, 1), 500)
        )
        return {"items": [task_out(job, wire_status(job)) for job in found], "total": total}

    @api.get("/tasks/{task_id}")
    async def task(task_id: str, comfy: Comfy) -> dict[str, Any]:
        job = await comfy.tasks.task(task_id)
        if job is None:
            raise AgentError(errors.TASK_NOT_FOUND)
        return await _task_view(comfy, job)

    return api


def _statuses(status: str | None) -> tuple[JobStatus, ...] | None:
    if status is None:
        return None
    if status == "pending":
        return (JobStatus.PENDING, JobStatus.LEASED)
    try:
        return (JobStatus(status),)
    except ValueError as exc:
        raise AgentError(errors.REQUEST_INVALID, f"unknown status {status!r}") from exc


async def _agent(comfy: ComfyuiContext, agent_id: str) -> Agent:
    found = await comfy.repo.agent(agent_id)
    if found is None:
        raise AgentError(errors.AGENT_NOT_FOUND)
    return found


async def _update(comfy: ComfyuiContext, agent_id: str, **values: Any) -> dict[str, Any]:
    updated = await comfy.repo.update_agent(agent_id, now=comfy.tasks.now(), **values)
    if updated is None:
        raise AgentError(errors.AGENT_NOT_FOUND)
    return await _agent_view(comfy, updated)


async def _agent_view(comfy: ComfyuiContext, agent: Agent) -> dict[str, Any]:
    last = agent.last_heartbeat_at
    online = last is not None and comfy.tasks.now() - last <= ONLINE_WINDOW
    return agent_out(agent, online=online, alerts=await comfy.repo.alerts(agent.agent_id))


async def _insert_manifest(
    comfy: ComfyuiContext, name: str, role: str, version: str, content: dict[str, Any]
) -> dict[str, Any]:
    try:
        created = await comfy.repo.insert_manifest(
            name=name, role=role, version=version, content=content, now=comfy.tasks.now()
        )
    except Conflict as exc:
        raise AgentError(errors.MANIFEST_EXISTS) from exc
    return manifest_admin_out(created)


async def _task_view(comfy: ComfyuiContext, job: Job) -> dict[str, Any]:
    engine_events = await comfy.runtime.engine.events(job.id)
    return {
        **task_out(job, wire_status(job)),
        "events": [event_out(e) for e in await comfy.repo.events(job.id)],
        "engine_events": [
            {"type": e.type, "node_id": e.node_id, "message": e.message, "created_at": fmt_time(e.created_at)}
            for e in engine_events
        ],
    }
