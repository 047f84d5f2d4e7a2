"""Who is calling: the bearer token of an agent request, checked against the agent's registration."""

from __future__ import annotations

import secrets

from fastapi import Request

from agenthub.protocols.comfyui import errors
from agenthub.protocols.comfyui.context import ComfyuiContext
from agenthub.protocols.comfyui.errors import AgentError
from agenthub.protocols.comfyui.records import Agent
from agenthub.protocols.comfyui.tokens import Claims


def bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def claims_of(comfy: ComfyuiContext, token: str | None) -> Claims:
    if not token:
        raise AgentError(errors.TOKEN_REQUIRED)
    return comfy.tokens.decode(token, now=comfy.tasks.now())


async def allowed_agent(comfy: ComfyuiContext, agent_id: str) -> Agent:
    agent = await comfy.repo.agent(agent_id)
    if agent is None:
        raise AgentError(errors.AGENT_NOT_FOUND)
    if not agent.allowed:
        raise AgentError(errors.AGENT_NOT_ALLOWED)
    return agent


async def authenticate(request: Request, comfy: ComfyuiContext) -> Claims:
    """The token's claims, once its agent is known to exist and be allowed."""
    claims = claims_of(comfy, bearer(request))
    await allowed_agent(comfy, claims.agent_id)
    return claims


def require_task_scope(claims: Claims) -> None:
    if claims.scope != "task":
        raise AgentError(errors.TOKEN_SCOPE_INVALID)


def require_admin(request: Request, comfy: ComfyuiContext) -> None:
    given = request.headers.get("x-admin-key", "")
    if not given or not secrets.compare_digest(given.encode(), comfy.admin_key.encode()):
        raise AgentError(errors.ADMIN_REQUIRED)
