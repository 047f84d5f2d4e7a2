"""Who is calling, as route dependencies: the bearer token of an agent request, checked against the agent's
registration (and for task receipts, the task), or the operator's admin key.

- `TaskReceipt`: a task token of an allowed agent for the path's `task_id`, the task its own and not expired.
- `TokenTask`: the same for the task the token names (the manifest download has no task in its path).
- `CurrentAgent`: an agent or task token of the path's `agent_id`, that agent allowed.
- `require_admin`: `X-Admin-Key`, for the operator router.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from agenthub.core.jobs import Job
from agenthub.protocols.comfyui.context import Comfy, ComfyuiContext
from agenthub.protocols.comfyui.errors import (
    AdminRequired,
    AgentNotAllowed,
    TaskExpired,
    TokenRequired,
    TokenScopeInvalid,
)
from agenthub.protocols.comfyui.service import is_expired
from agenthub.protocols.comfyui.tokens import Claims


@dataclass(frozen=True, slots=True)
class Receipt:
    """A task receipt's caller and task, both checked."""

    claims: Claims
    job: Job

    @property
    def agent_id(self) -> str:
        return self.claims.agent_id


def bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def claims_of(comfy: ComfyuiContext, token: str | None) -> Claims:
    if not token:
        raise TokenRequired
    return comfy.tokens.decode(token, now=comfy.tasks.now())


async def _task_claims(request: Request, comfy: ComfyuiContext) -> Claims:
    """A task token's claims, once its agent is known to exist and be allowed."""
    claims = claims_of(comfy, bearer(request))
    await comfy.agents.allowed(claims.agent_id)
    if claims.scope != "task":
        raise TokenScopeInvalid
    return claims


async def _task_receipt(task_id: str, request: Request, comfy: Comfy) -> Receipt:
    claims = await _task_claims(request, comfy)
    job = await comfy.tasks.receipt_task(
        task_id=task_id, agent_id=claims.agent_id, token_task_id=claims.task_id
    )
    return Receipt(claims, job)


async def _token_task(request: Request, comfy: Comfy) -> Receipt:
    claims = await _task_claims(request, comfy)
    task_id = claims.task_id or ""
    job = await comfy.tasks.receipt_task(
        task_id=task_id, agent_id=claims.agent_id, token_task_id=claims.task_id
    )
    return Receipt(claims, job)


async def _agent_itself(agent_id: str, request: Request, comfy: Comfy) -> Claims:
    """Heartbeats and alerts take an agent or a task token, but only for the token's own agent."""
    claims = claims_of(comfy, bearer(request))
    if claims.agent_id != agent_id:
        raise AgentNotAllowed(agent_id)
    await comfy.agents.allowed(agent_id)
    if claims.scope == "task" and claims.task_id is not None:
        job = await comfy.tasks.task(claims.task_id)
        if job is not None and is_expired(job, comfy.tasks.now()):
            raise TaskExpired(claims.task_id)
    return claims


async def require_admin(request: Request, comfy: Comfy) -> None:
    given = request.headers.get("x-admin-key", "")
    if not given or not secrets.compare_digest(given.encode(), comfy.admin_key.encode()):
        raise AdminRequired


TaskReceipt = Annotated[Receipt, Depends(_task_receipt)]
TokenTask = Annotated[Receipt, Depends(_token_task)]
CurrentAgent = Annotated[Claims, Depends(_agent_itself)]
