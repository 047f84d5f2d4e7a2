"""The seed's endpoints under /api/agent: docs, verify, manifests, task receipts, heartbeat, alerts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from agenthub.core.jobs import Job
from agenthub.core.nodes import NodeSighting
from agenthub.protocols.comfyui import errors
from agenthub.protocols.comfyui.context import Comfy, ComfyuiContext
from agenthub.protocols.comfyui.errors import AgentError
from agenthub.protocols.comfyui.schemas import AlertIn, CompleteIn, EventIn, FailedIn, HeartbeatIn, VerifyIn
from agenthub.protocols.comfyui.security import (
    allowed_agent,
    authenticate,
    bearer,
    claims_of,
    require_task_scope,
)
from agenthub.protocols.comfyui.service import is_expired, wire_status
from agenthub.protocols.comfyui.tokens import Claims
from agenthub.protocols.comfyui.wire import event_out, fmt_time, manifest_out

NODE_KIND = "comfyui"


def protocol_doc_path(comfy: ComfyuiContext) -> Path:
    if comfy.settings.protocol_doc:
        return Path(comfy.settings.protocol_doc)
    return Path(__file__).resolve().parents[4] / "docs" / "comfyui.md"


def router() -> APIRouter:
    api = APIRouter(prefix="/api/agent")

    @api.get("/docs/agent-protocol", response_class=PlainTextResponse)
    async def protocol_doc(comfy: Comfy) -> PlainTextResponse:
        # Read on every request, as the seed says: the served document is always the repository's.
        try:
            text = protocol_doc_path(comfy).read_text(encoding="utf-8")
        except OSError as exc:
            raise AgentError(errors.DOCS_NOT_FOUND) from exc
        return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")

    @api.post("/auth/verify")
    async def verify(body: VerifyIn, request: Request, comfy: Comfy) -> dict[str, Any]:
        claims = claims_of(comfy, body.token or bearer(request))
        _require_same(claims, body)
        await allowed_agent(comfy, claims.agent_id)
        if claims.task_id is not None:
            await comfy.tasks.receipt_task(
                task_id=claims.task_id, agent_id=claims.agent_id, token_task_id=claims.task_id
            )
        return {
            "ok": True,
            "agentId": claims.agent_id,
            "taskId": claims.task_id,
            "expiresAt": fmt_time(claims.expires_at),
            "scope": claims.scope,
            "policy": {"allow": True},
        }

    @api.get("/manifests/{manifest_id}")
    async def manifest(manifest_id: int, request: Request, comfy: Comfy) -> dict[str, Any]:
        claims = await authenticate(request, comfy)
        require_task_scope(claims)
        job = await comfy.tasks.receipt_task(
            task_id=claims.task_id or "", agent_id=claims.agent_id, token_task_id=claims.task_id
        )
        found = await comfy.repo.manifest(manifest_id)
        if found is None:
            raise AgentError(errors.MANIFEST_NOT_FOUND)
        if job.payload.get("manifest_id") != manifest_id:
            raise AgentError(errors.MANIFEST_FORBIDDEN)
        return manifest_out(found)

    @api.post("/tasks/{task_id}/events")
    async def event(task_id: str, body: EventIn, request: Request, comfy: Comfy) -> dict[str, Any]:
        claims, job = await _receipt(request, comfy, task_id)
        payload = dict(body.payload or {})
        if body.step is not None:
            payload["step"] = body.step
        if body.progress is not None:
            payload["progress"] = body.progress
        message = body.message.strip()[: comfy.settings.max_event_message_chars]
        written = await comfy.tasks.record_event(
            job, claims.agent_id, level=body.level, message=message, payload=payload, progress=body.progress
        )
        return event_out(written)

    @api.post("/tasks/{task_id}/complete")
    async def complete(task_id: str, body: CompleteIn, request: Request, comfy: Comfy) -> dict[str, Any]:
        claims, job = await _receipt(request, comfy, task_id)
        done = await comfy.tasks.complete(
            job, claims.agent_id, result=body.model_dump(), message=body.summary
        )
        return {"id": task_id, "agentId": claims.agent_id, "status": wire_status(done)}

    @api.post("/tasks/{task_id}/failed")
    async def failed(task_id: str, body: FailedIn, request: Request, comfy: Comfy) -> dict[str, Any]:
        claims, job = await _receipt(request, comfy, task_id)
        done = await comfy.tasks.fail(
            job, claims.agent_id, error_code=body.error_code, message=body.message, result=body.model_dump()
        )
        return {"id": task_id, "agentId": claims.agent_id, "status": wire_status(done)}

    @api.post("/agents/{agent_id}/heartbeat")
    async def heartbeat(agent_id: str, body: HeartbeatIn, request: Request, comfy: Comfy) -> dict[str, Any]:
        await _agent_itself(request, comfy, agent_id)
        now = comfy.tasks.now()
        await comfy.repo.update_agent(
            agent_id,
            now=now,
            status=body.status,
            agent_version=body.agent_version,
            comfyui_version=body.comfyui_version,
            metrics=body.model_dump(exclude_none=True),
            last_heartbeat_at=now,
        )
        await comfy.runtime.engine.node_seen(
            NodeSighting(kind=NODE_KIND, node_id=agent_id, version=body.agent_version)
        )
        return {"status": "ok", "agentId": agent_id, "receivedAt": fmt_time(now)}

    @api.post("/agents/{agent_id}/alerts")
    async def alert(agent_id: str, body: AlertIn, request: Request, comfy: Comfy) -> dict[str, Any]:
        await _agent_itself(request, comfy, agent_id)
        await comfy.repo.insert_alert(
            agent_id=agent_id,
            type=body.type,
            message=body.message.strip(),
            payload=body.payload,
            now=comfy.tasks.now(),
        )
        return {"status": "ok"}

    return api


def _require_same(claims: Claims, body: VerifyIn) -> None:
    """The body names what the agent was told; it must be what the token says (the nonce binds the two)."""
    mismatched = (
        (body.agent_id is not None and body.agent_id != claims.agent_id)
        or (body.task_id is not None and body.task_id != claims.task_id)
        or (body.nonce is not None and body.nonce != claims.nonce)
        or (claims.scope == "task" and body.nonce is None)
    )
    if mismatched:
        raise AgentError(errors.TOKEN_PAYLOAD_MISMATCH)


async def _receipt(request: Request, comfy: ComfyuiContext, task_id: str) -> tuple[Claims, Job]:
    claims = await authenticate(request, comfy)
    require_task_scope(claims)
    job = await comfy.tasks.receipt_task(
        task_id=task_id, agent_id=claims.agent_id, token_task_id=claims.task_id
    )
    return claims, job


async def _agent_itself(request: Request, comfy: ComfyuiContext, agent_id: str) -> None:
    """Heartbeats and alerts take an agent or a task token, but only for the token's own agent."""
    claims = claims_of(comfy, bearer(request))
    if claims.agent_id != agent_id:
        raise AgentError(errors.AGENT_NOT_ALLOWED)
    await allowed_agent(comfy, agent_id)
    if claims.scope == "task" and claims.task_id is not None:
        job = await comfy.tasks.task(claims.task_id)
        if job is not None and is_expired(job, comfy.tasks.now()):
            raise AgentError(errors.TASK_EXPIRED)
