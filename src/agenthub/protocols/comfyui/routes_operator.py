"""Operator endpoints (ours, not the seed's), under /api/agent/operator, all behind `X-Admin-Key`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from agenthub.core.jobs import JobQuery, JobStatus
from agenthub.protocols.comfyui.agents import Presence
from agenthub.protocols.comfyui.context import Comfy, ComfyuiContext
from agenthub.protocols.comfyui.errors import (
    AgentNotAllowed,
    ManifestNotFound,
    RequestInvalid,
    TaskNotFound,
)
from agenthub.protocols.comfyui.kinds import TASK_KIND
from agenthub.protocols.comfyui.records import Agent, Manifest
from agenthub.protocols.comfyui.schemas import (
    AgentIn,
    AgentPatch,
    AgentTokenIn,
    Int64,
    Int64Path,
    ManifestIn,
    ManifestVersionIn,
    TaskIn,
)
from agenthub.protocols.comfyui.security import require_admin
from agenthub.protocols.comfyui.wire import (
    agent_out,
    agent_view_out,
    fmt_time,
    manifest_admin_out,
    task_out,
    task_view_out,
)

router = APIRouter(prefix="/api/agent/operator", dependencies=[Depends(require_admin)])


async def _known_agent(agent_id: str, comfy: Comfy) -> Agent:
    return await comfy.agents.get(agent_id)


async def _known_manifest(manifest_id: Int64Path, comfy: Comfy) -> Manifest:
    found = await comfy.repo.manifest(manifest_id)
    if found is None:
        raise ManifestNotFound(manifest_id)
    return found


KnownAgent = Annotated[Agent, Depends(_known_agent)]
KnownManifest = Annotated[Manifest, Depends(_known_manifest)]


@router.post("/agents", status_code=201)
async def register(body: AgentIn, comfy: Comfy) -> dict[str, Any]:
    agent = await comfy.agents.register(agent_id=body.agent_id, base_url=body.base_url, allowed=body.allowed)
    return agent_out(agent, Presence(online=False, last_seen_at=None))


@router.get("/agents")
async def agents(comfy: Comfy) -> dict[str, Any]:
    return {"items": [agent_view_out(view) for view in await comfy.agents.views()]}


@router.get("/agents/{agent_id}")
async def agent(found: KnownAgent, comfy: Comfy) -> dict[str, Any]:
    return agent_view_out(await comfy.agents.view(found))


@router.patch("/agents/{agent_id}")
async def move(agent_id: str, body: AgentPatch, comfy: Comfy) -> dict[str, Any]:
    return await _updated(comfy, agent_id, base_url=body.base_url)


@router.post("/agents/{agent_id}/allow")
async def allow(agent_id: str, comfy: Comfy) -> dict[str, Any]:
    return await _updated(comfy, agent_id, allowed=True)


@router.post("/agents/{agent_id}/disable")
async def disable(agent_id: str, comfy: Comfy) -> dict[str, Any]:
    return await _updated(comfy, agent_id, allowed=False)


@router.post("/agents/{agent_id}/tokens", status_code=201)
async def agent_token(found: KnownAgent, body: AgentTokenIn, comfy: Comfy) -> dict[str, Any]:
    issued = comfy.tokens.issue(
        agent_id=found.agent_id,
        task_id=None,
        scope="agent",
        now=comfy.tasks.now(),
        ttl=comfy.agent_token_ttl(body.ttl_seconds),
    )
    return {
        "token": issued.token,
        "agentId": found.agent_id,
        "scope": "agent",
        "expiresAt": fmt_time(issued.expires_at),
    }


@router.post("/manifests", status_code=201)
async def create_manifest(body: ManifestIn, comfy: Comfy) -> dict[str, Any]:
    created = await comfy.repo.insert_manifest(
        name=body.name,
        role=body.role,
        version=body.version,
        content=body.content.model_dump(),
        now=comfy.tasks.now(),
    )
    return manifest_admin_out(created)


@router.post("/manifests/{manifest_id}/versions", status_code=201)
async def new_version(base: KnownManifest, body: ManifestVersionIn, comfy: Comfy) -> dict[str, Any]:
    created = await comfy.repo.insert_manifest(
        name=base.name,
        role=body.role or base.role,
        version=body.version,
        content=body.content.model_dump(),
        now=comfy.tasks.now(),
    )
    return manifest_admin_out(created)


@router.get("/manifests")
async def manifests(comfy: Comfy, name: str | None = None) -> dict[str, Any]:
    return {"items": [manifest_admin_out(m) for m in await comfy.repo.list_manifests(name=name)]}


@router.get("/manifests/{manifest_id}")
async def manifest(found: KnownManifest) -> dict[str, Any]:
    return manifest_admin_out(found)


@router.post("/tasks", status_code=201)
async def create_task(body: TaskIn, request: Request, comfy: Comfy) -> dict[str, Any]:
    target = await comfy.agents.get(body.agent_id)
    if not target.allowed:
        raise AgentNotAllowed(body.agent_id)
    if await comfy.repo.manifest(body.manifest_id) is None:
        raise ManifestNotFound(body.manifest_id)
    created = await comfy.tasks.create(target, body.manifest_id, platform_url=str(request.base_url))
    return task_out(created)


@router.get("/tasks")
async def tasks(
    comfy: Comfy, agent_id: str | None = None, status: str | None = None, limit: Int64 = 100
) -> dict[str, Any]:
    query = JobQuery(kind=TASK_KIND, statuses=_statuses(status), target_node=agent_id)
    found, total = await comfy.runtime.engine.find(query, limit=min(max(limit, 1), 500))
    return {"items": [task_out(job) for job in found], "total": total}


@router.get("/tasks/{task_id}")
async def task(task_id: str, comfy: Comfy) -> dict[str, Any]:
    job = await comfy.tasks.task(task_id)
    if job is None:
        raise TaskNotFound(task_id)
    return task_view_out(job, await comfy.repo.events(job.id), await comfy.runtime.engine.events(job.id))


async def _updated(comfy: ComfyuiContext, agent_id: str, **values: Any) -> dict[str, Any]:
    return agent_view_out(await comfy.agents.view(await comfy.agents.update(agent_id, **values)))


def _statuses(status: str | None) -> tuple[JobStatus, ...] | None:
    if status is None:
        return None
    if status == "pending":
        return (JobStatus.PENDING, JobStatus.LEASED)
    try:
        return (JobStatus(status),)
    except ValueError as exc:
        raise RequestInvalid(f"unknown status {status!r}") from exc
