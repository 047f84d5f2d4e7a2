"""The seed's agent API (`/api/v1/agents/...`, application credentials)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from agenthub.core.nodes import AgentNode
from agenthub.protocols.iac.channels import AGENT_KIND
from agenthub.protocols.iac.context import CurrentAgent, Iac
from agenthub.protocols.iac.errors import NotFound
from agenthub.protocols.iac.schemas import LogChunkIn, StateIn, StatusIn, read_body, task_id_of
from agenthub.protocols.iac.service import iso

router = APIRouter(prefix="/api/v1/agents")


@router.get("/tasks/{task_id}/data")
async def task_data(task_id: str, iac: Iac, caller: CurrentAgent) -> dict[str, Any]:
    return await iac.agent_tasks.task_data(caller, task_id_of(task_id))


@router.post("/tasks/{task_id}/logs/chunk")
async def log_chunk(task_id: str, request: Request, iac: Iac, caller: CurrentAgent) -> dict[str, Any]:
    number = task_id_of(task_id)
    body = await read_body(request, LogChunkIn)
    result = await iac.agent_tasks.append_log(caller, number, body)
    return {"status": "ok", "next_offset": result.next_offset, "saved_bytes": result.saved_bytes}


@router.put("/tasks/{task_id}/status")
async def task_status(task_id: str, request: Request, iac: Iac, caller: CurrentAgent) -> dict[str, Any]:
    number = task_id_of(task_id)
    body = await read_body(request, StatusIn)
    return await iac.agent_tasks.update_status(caller, number, body)


@router.post("/tasks/{task_id}/state")
async def save_state(task_id: str, request: Request, iac: Iac, caller: CurrentAgent) -> dict[str, Any]:
    number = task_id_of(task_id)
    body = await read_body(request, StateIn)
    version = await iac.agent_tasks.save_state(caller, number, body)
    return {"message": "state saved successfully", "version": version}


@router.get("/{agent_id}/cc-status")
async def cc_status(agent_id: str, iac: Iac, caller: CurrentAgent) -> dict[str, Any]:
    node = await iac.runtime.engine.node(AGENT_KIND, caller.agent_id)
    if node is None or not iac.runtime.engine.is_online(node):
        raise NotFound(f"agent {agent_id} not connected")
    return _cc_status(node)


def _cc_status(node: AgentNode) -> dict[str, Any]:
    info = node.info or {}
    return {
        "agent_id": node.node_id,
        "connected": True,
        "last_ping_at": iso(node.last_seen_at),
        "status": info.get("load") or {},
    }
