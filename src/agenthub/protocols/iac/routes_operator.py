"""The operator API (ours, `/api/v1/admin/...`, `X-Admin-Key`): applications, agents, workspaces, tasks,
state versions, live logs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from agenthub.protocols.iac.context import Admin, Iac
from agenthub.protocols.iac.errors import NotFound
from agenthub.protocols.iac.schemas import (
    INT32,
    AgentIn,
    ApplicationIn,
    RealtimeIn,
    TaskIn,
    WorkspaceIn,
    read_body,
    task_id_of,
)

router = APIRouter(prefix="/api/v1/admin", dependencies=[Admin])


@router.post("/applications", status_code=201)
async def create_application(request: Request, iac: Iac) -> dict[str, Any]:
    body = await read_body(request, ApplicationIn)
    return await iac.tasks.create_application(body.name)


@router.post("/agents", status_code=201)
async def register_agent(request: Request, iac: Iac) -> dict[str, Any]:
    body = await read_body(request, AgentIn)
    return await iac.tasks.register_agent(body.agent_id, body.application_id, body.name)


@router.get("/agents")
async def list_agents(iac: Iac) -> dict[str, Any]:
    return {"agents": await iac.tasks.agents_view()}


@router.post("/workspaces", status_code=201)
async def create_workspace(request: Request, iac: Iac) -> dict[str, Any]:
    body = await read_body(request, WorkspaceIn)
    return await iac.tasks.create_workspace(body)


@router.get("/workspaces/{workspace_id}")
async def get_workspace(workspace_id: str, iac: Iac) -> dict[str, Any]:
    return await iac.tasks.workspace_view(workspace_id)


@router.post("/workspaces/{workspace_id}/tasks", status_code=201)
async def create_task(workspace_id: str, request: Request, iac: Iac) -> dict[str, Any]:
    body = await read_body(request, TaskIn)
    return await iac.tasks.create_task(workspace_id, body)


@router.get("/workspaces/{workspace_id}/state-versions")
async def state_versions(workspace_id: str, iac: Iac) -> dict[str, Any]:
    return {"state_versions": await iac.tasks.state_versions(workspace_id)}


@router.get("/workspaces/{workspace_id}/state-versions/{version}")
async def state_version(workspace_id: str, version: str, iac: Iac) -> dict[str, Any]:
    if not version.isascii() or not version.isdigit() or len(version) > 9 or int(version) > INT32:
        raise NotFound("state version not found")
    return await iac.tasks.state_version(workspace_id, int(version))


@router.get("/tasks/{task_id}")
async def get_task(task_id: str, iac: Iac) -> dict[str, Any]:
    return await iac.tasks.task_view(task_id_of(task_id), events=True)


@router.post("/tasks/{task_id}/cancel")
async def cancel_task(task_id: str, iac: Iac) -> dict[str, Any]:
    return await iac.tasks.cancel_task(task_id_of(task_id))


@router.post("/tasks/{task_id}/realtime-stream")
async def realtime_stream(task_id: str, request: Request, iac: Iac) -> JSONResponse:
    number = task_id_of(task_id)
    body = await read_body(request, RealtimeIn)
    return JSONResponse(await iac.tasks.realtime(number, body.enabled))
