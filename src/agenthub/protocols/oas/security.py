"""Who is calling: Oas JWTs (role agent / manager / super) and the FastAPI dependencies that demand them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import Depends, Request

from agenthub.auth import TokenError, TokenExpired, decode_token, issue_token
from agenthub.protocols.oas.errors import OasError
from agenthub.server.runtime import Runtime

Role = Literal["agent", "manager", "super", "user"]


@dataclass(frozen=True, slots=True)
class Principal:
    role: Role
    subject_id: int  # the manager's id for agents and managers, the admin's for super, the user's for users
    manager_id: int | None = None
    node_id: str | None = None


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def issue(runtime: Runtime, principal: Principal, *, ttl_seconds: int) -> str:
    claims = {
        "sub": str(principal.subject_id),
        "role": principal.role,
        "manager_id": principal.manager_id,
        "node_id": principal.node_id,
    }
    return issue_token(
        claims, secret=runtime.jwt_secret, now=runtime.clock.now(), ttl=timedelta(seconds=ttl_seconds)
    )


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise OasError(401, "缺少认证令牌")
    return token.strip()


def principal_from_token(runtime: Runtime, token: str) -> Principal:
    try:
        claims = decode_token(token, secret=runtime.jwt_secret, now=runtime.clock.now())
        return Principal(
            role=claims["role"],
            subject_id=int(claims["sub"]),
            manager_id=claims.get("manager_id"),
            node_id=claims.get("node_id"),
        )
    except TokenExpired as exc:
        raise OasError(401, "认证令牌已过期") from exc
    except (TokenError, KeyError, ValueError, TypeError) as exc:
        raise OasError(401, "认证令牌无效") from exc


def _require(role: Role) -> object:
    def dependency(request: Request) -> Principal:
        principal = principal_from_token(runtime_of(request), _bearer(request))
        if principal.role != role:
            raise OasError(403, "权限不足")
        return principal

    return Depends(dependency)


CurrentAgent = Annotated[Principal, _require("agent")]
CurrentManager = Annotated[Principal, _require("manager")]
CurrentSuper = Annotated[Principal, _require("super")]
CurrentUser = Annotated[Principal, _require("user")]
Rt = Annotated[Runtime, Depends(runtime_of)]


def same_node(principal: Principal, node_id: str) -> None:
    """An agent token is bound to the node that logged in; it cannot speak for another node."""
    if principal.node_id != node_id:
        raise OasError(403, "node_id 与令牌不匹配")
