"""Who is calling: Oas JWTs (role agent / manager / super) and the FastAPI dependencies that demand them."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel

from agenthub.auth import TokenError, TokenExpired, decode_token, issue_token
from agenthub.protocols.oas.accounts import Accounts
from agenthub.protocols.oas.errors import OasError
from agenthub.server.runtime import Runtime

Role = Literal["agent", "manager", "super", "user"]
BodyT = TypeVar("BodyT", bound=BaseModel)

TOKEN_INVALID = "认证令牌无效"
TOKEN_REVOKED = "认证令牌已失效"
MANAGER_INACTIVE = "管理员账号未激活或已过期"
USER_INACTIVE = "用户账号未激活"
USER_EXPIRED = "用户账号已过期"


@dataclass(frozen=True, slots=True)
class Principal:
    role: Role
    subject_id: int  # the manager's id for agents and managers, the admin's for super, the user's for users
    manager_id: int | None = None
    node_id: str | None = None
    token_version: int = 0  # the manager's, for agent and manager tokens


def runtime_from(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def runtime_of(request: Request) -> Runtime:
    # async, as every dependency here: FastAPI runs a plain `def` one in its thread pool.
    return runtime_from(request)


def issue(runtime: Runtime, principal: Principal, *, ttl_seconds: int) -> str:
    claims = {
        "sub": str(principal.subject_id),
        "role": principal.role,
        "manager_id": principal.manager_id,
        "node_id": principal.node_id,
        "ver": principal.token_version,
    }
    return issue_token(
        claims, secret=runtime.jwt_secret, now=runtime.clock.now(), ttl=timedelta(seconds=ttl_seconds)
    )


def bearer_token(header: str) -> str:
    """The token of an `Authorization: Bearer ...` header."""
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
            token_version=int(claims.get("ver", 0)),
        )
    except TokenExpired as exc:
        raise OasError(401, "认证令牌已过期") from exc
    except (TokenError, KeyError, ValueError, TypeError) as exc:
        raise OasError(401, TOKEN_INVALID) from exc


def accounts_of(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.oas.accounts
    return accounts


async def check_standing(
    runtime: Runtime, accounts: Accounts, principal: Principal, *, require_active: bool = True
) -> None:
    """A token is only as good as its account is now: a manager whose password was reset or who expired,
    or a user who was disabled or expired, is refused on the next request (read from `Accounts`' cache)."""
    if principal.role in ("agent", "manager"):
        manager_id = principal.manager_id if principal.role == "agent" else principal.subject_id
        manager = await accounts.manager(manager_id) if manager_id is not None else None
        if manager is None:
            raise OasError(401, TOKEN_INVALID)
        if manager.token_version != principal.token_version:
            raise OasError(401, TOKEN_REVOKED)
        if require_active and not manager.is_active(runtime.clock.now()):
            raise OasError(403, MANAGER_INACTIVE)
    elif principal.role == "user":
        user = await accounts.user(principal.subject_id)
        if user is None:
            raise OasError(401, TOKEN_INVALID)
        if user.token_version != principal.token_version:  # logged out since
            raise OasError(401, TOKEN_REVOKED)
        if user.status == "disabled" or user.expires_at is None:
            raise OasError(403, USER_INACTIVE)
        if user.status == "expired" or user.expires_at <= runtime.clock.now():
            raise OasError(403, USER_EXPIRED)


async def authenticate(
    runtime: Runtime, accounts: Accounts, authorization: str, role: Role, *, require_active: bool = True
) -> Principal:
    """The principal of an Authorization header, if it has the role and its account is in good standing."""
    principal = principal_from_token(runtime, bearer_token(authorization))
    if principal.role != role:
        raise OasError(403, "权限不足")
    await check_standing(runtime, accounts, principal, require_active=require_active)
    return principal


async def authenticated(request: Request, role: Role, *, require_active: bool = True) -> Principal:
    authorization = request.headers.get("authorization", "")
    principal = await authenticate(
        runtime_from(request), accounts_of(request), authorization, role, require_active=require_active
    )
    request.state.principal = principal  # for the audit log (audit.py)
    return principal


async def _manager_any_standing(request: Request) -> Principal:
    return await authenticated(request, "manager", require_active=False)


async def _login_attempt(request: Request) -> AsyncIterator[None]:
    # The peer's address as the server sees it (behind a proxy, run uvicorn with its proxy headers on).
    address = request.client.host if request.client else "unknown"
    async with request.app.state.oas.logins.attempt(address):
        yield


# On every login route: the per-address limit on refused logins (`login_throttle`).
LoginAttempt = Depends(_login_attempt)


def _require(role: Role) -> object:
    async def dependency(request: Request) -> Principal:
        return await authenticated(request, role)

    return Depends(dependency)


@dataclass(frozen=True, slots=True)
class Agent:
    """An agent's token: the manager it logged in as and the node it logged in from."""

    manager_id: int
    node_id: str


@dataclass(frozen=True, slots=True)
class AgentCall(Generic[BodyT]):
    """An agent's call that names its node in the body, checked against the token once."""

    agent: Agent
    body: BodyT

    @property
    def manager_id(self) -> int:
        return self.agent.manager_id

    @property
    def node_id(self) -> str:
        return self.agent.node_id


@dataclass(frozen=True, slots=True)
class AgentLease(Generic[BodyT]):
    """An agent's call on a job it leased: which job, for which manager, from which node (checked against
    the token). Whether the node still holds the job's live lease is the engine's rule, checked in the
    same transaction as the change (`agenthub.core.rules.require_live_lease`)."""

    job_id: int
    agent: Agent
    body: BodyT

    @property
    def manager_id(self) -> int:
        return self.agent.manager_id

    @property
    def node_id(self) -> str:
        return self.agent.node_id


def agent_of(principal: Principal) -> Agent:
    if principal.manager_id is None or principal.node_id is None:
        raise OasError(401, TOKEN_INVALID)
    return Agent(manager_id=principal.manager_id, node_id=principal.node_id)


async def _agent(request: Request) -> Agent:
    return agent_of(await authenticated(request, "agent"))


CurrentAgent = Annotated[Agent, Depends(_agent)]


def same_node(agent: Agent, node_id: str) -> Agent:
    """An agent token is bound to the node that logged in; it cannot speak for another node."""
    if agent.node_id != node_id:
        raise OasError(403, "node_id 与令牌不匹配")
    return agent


async def _node_in_query(agent: CurrentAgent, node_id: str = Query(min_length=3, max_length=128)) -> Agent:
    return same_node(agent, node_id)


# An agent's GET that names its node in the query (`?node_id=`), checked against the token.
AgentOfNode = Annotated[Agent, Depends(_node_in_query)]


def _dependency(build: Callable[..., Any], params: dict[str, Any]) -> Any:
    """`Depends` on `build`, with the parameters FastAPI should resolve for it (given as real types, so a
    body model chosen at runtime works under `from __future__ import annotations`)."""

    # async: FastAPI runs a plain `def` dependency in its thread pool, a thread hop per request for nothing.
    async def dependency(**kwargs: Any) -> Any:
        return build(**kwargs)

    dependency.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=kind)
            for name, kind in params.items()
        ]
    )
    return Depends(dependency)


def agent_call(model: type[BodyT]) -> Any:
    """A dependency: the body (of `model`, which has a `node_id`) sent by the token's own node."""

    def build(body: BodyT, agent: Agent) -> AgentCall[BodyT]:
        same_node(agent, body.node_id)  # type: ignore[attr-defined]
        return AgentCall(agent=agent, body=body)

    return _dependency(build, {"body": model, "agent": CurrentAgent})


def agent_lease(model: type[BodyT], *, path_param: str = "job_id") -> Any:
    """A dependency: the job named by the path (`path_param`) and the body sent by the token's own node."""

    def build(body: BodyT, agent: Agent, **path: int) -> AgentLease[BodyT]:
        same_node(agent, body.node_id)  # type: ignore[attr-defined]
        return AgentLease(job_id=path[path_param], agent=agent, body=body)

    return _dependency(build, {path_param: int, "body": model, "agent": CurrentAgent})


CurrentManager = Annotated[Principal, _require("manager")]
CurrentSuper = Annotated[Principal, _require("super")]
# A manager whose account expired (or was never activated) may still see itself and redeem a renewal key.
ManagerAnyStanding = Annotated[Principal, Depends(_manager_any_standing)]
CurrentUser = Annotated[Principal, _require("user")]
Rt = Annotated[Runtime, Depends(runtime_of)]
