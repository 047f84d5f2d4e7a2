"""The seed's endpoints under /api/agent: docs, verify, manifests, task receipts, heartbeat, alerts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from agenthub.protocols.comfyui.context import Comfy, ComfyuiContext
from agenthub.protocols.comfyui.errors import (
    DocsNotFound,
    ManifestForbidden,
    ManifestNotFound,
    TokenPayloadMismatch,
)
from agenthub.protocols.comfyui.schemas import (
    AlertIn,
    CompleteIn,
    EventIn,
    FailedIn,
    HeartbeatIn,
    Int64Path,
    VerifyIn,
)
from agenthub.protocols.comfyui.security import CurrentAgent, TaskReceipt, TokenTask, bearer, claims_of
from agenthub.protocols.comfyui.tokens import Claims
from agenthub.protocols.comfyui.wire import event_out, fmt_time, manifest_out, receipt_out

router = APIRouter(prefix="/api/agent")


def protocol_doc_path(comfy: ComfyuiContext) -> Path:
    if comfy.settings.protocol_doc:
        return Path(comfy.settings.protocol_doc)
    return Path(__file__).resolve().parents[4] / "docs" / "comfyui.md"


@router.get("/docs/agent-protocol", response_class=PlainTextResponse)
async def protocol_doc(comfy: Comfy) -> PlainTextResponse:
    # Read on every request, as the seed says: the served document is always the repository's.
    try:
        text = protocol_doc_path(comfy).read_text(encoding="utf-8")
    except OSError as exc:
        raise DocsNotFound(str(exc)) from exc
    return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")


@router.post("/auth/verify")
async def verify(body: VerifyIn, request: Request, comfy: Comfy) -> dict[str, Any]:
    # The token may come in the body (the seed's way) or as a bearer, so no dependency takes it.
    claims = claims_of(comfy, body.token or bearer(request))
    _require_same(claims, body)
    await comfy.agents.allowed(claims.agent_id)
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


@router.get("/manifests/{manifest_id}")
async def manifest(manifest_id: Int64Path, receipt: TokenTask, comfy: Comfy) -> dict[str, Any]:
    found = await comfy.repo.manifest(manifest_id)
    if found is None:
        raise ManifestNotFound(manifest_id)
    if receipt.job.payload.get("manifest_id") != manifest_id:
        raise ManifestForbidden(manifest_id)
    return manifest_out(found)


@router.post("/tasks/{task_id}/events")
async def event(body: EventIn, receipt: TaskReceipt, comfy: Comfy) -> dict[str, Any]:
    payload = dict(body.payload or {})
    if body.step is not None:
        payload["step"] = body.step
    if body.progress is not None:
        payload["progress"] = body.progress
    message = body.message.strip()[: comfy.settings.max_event_message_chars]
    written = await comfy.tasks.record_event(
        receipt.job,
        receipt.agent_id,
        level=body.level,
        message=message,
        payload=payload,
        progress=body.progress,
    )
    return event_out(written)


@router.post("/tasks/{task_id}/complete")
async def complete(body: CompleteIn, receipt: TaskReceipt, comfy: Comfy) -> dict[str, Any]:
    done = await comfy.tasks.complete(
        receipt.job, receipt.agent_id, result=body.model_dump(), message=body.summary
    )
    return receipt_out(done)


@router.post("/tasks/{task_id}/failed")
async def failed(body: FailedIn, receipt: TaskReceipt, comfy: Comfy) -> dict[str, Any]:
    done = await comfy.tasks.fail(
        receipt.job,
        receipt.agent_id,
        error_code=body.error_code,
        message=body.message,
        result=body.model_dump(),
    )
    return receipt_out(done)


@router.post("/agents/{agent_id}/heartbeat")
async def heartbeat(agent_id: str, body: HeartbeatIn, _caller: CurrentAgent, comfy: Comfy) -> dict[str, Any]:
    received = await comfy.agents.heard_from(
        agent_id,
        status=body.status,
        agent_version=body.agent_version,
        comfyui_version=body.comfyui_version,
        metrics=body.model_dump(exclude_none=True),
    )
    return {"status": "ok", "agentId": agent_id, "receivedAt": fmt_time(received)}


@router.post("/agents/{agent_id}/alerts")
async def alert(agent_id: str, body: AlertIn, _caller: CurrentAgent, comfy: Comfy) -> dict[str, Any]:
    await comfy.agents.alert(agent_id, type=body.type, message=body.message.strip(), payload=body.payload)
    return {"status": "ok"}


def _require_same(claims: Claims, body: VerifyIn) -> None:
    """The body names what the agent was told; it must be what the token says (the nonce binds the two)."""
    mismatched = (
        (body.agent_id is not None and body.agent_id != claims.agent_id)
        or (body.task_id is not None and body.task_id != claims.task_id)
        or (body.nonce is not None and body.nonce != claims.nonce)
        or (claims.scope == "task" and body.nonce is None)
    )
    if mismatched:
        raise TokenPayloadMismatch
