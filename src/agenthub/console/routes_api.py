"""The console's JSON API under /api: login and session, fleet, jobs, why pending, actions, stats. Every
route but login needs the session cookie."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, Response

from agenthub.console.context import Console, CurrentOperator, operator_of
from agenthub.console.errors import BadCredentials, NotLoggedIn
from agenthub.protocols.oas.operators import is_super_admin

router = APIRouter(prefix="/api")
JobId = Annotated[int, Path(ge=1, le=2**62)]


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=256)


@router.post("/login")
async def login(body: Login, console: Console) -> Response:
    if not await is_super_admin(console.runtime.db, username=body.username, password=body.password):
        raise BadCredentials()
    now = console.runtime.clock.now()
    token = console.sessions.issue(body.username, now=now)
    operator = console.sessions.check(token, now=now)
    response = JSONResponse({"username": operator.username, "expires_at": operator.expires_at.isoformat()})
    console.sessions.set_cookie(response, token)
    return response


@router.post("/logout")
async def logout(console: Console) -> Response:
    response = JSONResponse({"ok": True})
    console.sessions.clear_cookie(response)
    return response


@router.get("/me")
async def me(request: Request, console: Console) -> dict[str, Any]:
    """Who is logged in; `username` null without a valid session (a 200, so the page's first look at its
    session leaves no error in the browser's console)."""
    try:
        operator = operator_of(request, console)
    except NotLoggedIn:
        return {"username": None, "expires_at": None}
    return {"username": operator.username, "expires_at": operator.expires_at}


@router.get("/protocols")
async def protocols(console: Console, _operator: CurrentOperator) -> dict[str, Any]:
    return {
        "protocols": [
            {"name": name, "job_kinds": console.job_kinds(name), "running": name in console.runtime.states}
            for name in console.protocols()
        ]
    }


@router.get("/fleet")
async def fleet(
    console: Console,
    _operator: CurrentOperator,
    protocol: str | None = None,
    state: str | None = Query(default=None, pattern="^(online|offline|disabled)?$"),
) -> dict[str, Any]:
    return {"nodes": await console.fleet(protocol=protocol, state=state)}


@router.get("/nodes/{kind}/{node_id}")
async def node(kind: str, node_id: str, console: Console, _operator: CurrentOperator) -> dict[str, Any]:
    return await console.node(kind, node_id)


@router.post("/nodes/{kind}/{node_id}/disable")
async def disable(kind: str, node_id: str, console: Console, operator: CurrentOperator) -> dict[str, Any]:
    return await console.set_disabled(kind, node_id, disabled=True, operator=operator.username)


@router.post("/nodes/{kind}/{node_id}/enable")
async def enable(kind: str, node_id: str, console: Console, operator: CurrentOperator) -> dict[str, Any]:
    return await console.set_disabled(kind, node_id, disabled=False, operator=operator.username)


@router.get("/jobs")
async def jobs(
    console: Console,
    _operator: CurrentOperator,
    protocol: str | None = None,
    kind: str | None = None,
    status: str | None = Query(
        default=None, pattern="^(pending|leased|running|success|failed|cancelled|expired)?$"
    ),
    type: str | None = None,
    node: str | None = None,
    q: str | None = Query(default=None, max_length=128),
    before: int | None = Query(default=None, ge=1, le=2**62),
    limit: int = Query(default=50, ge=1, le=200),
) -> dict[str, Any]:
    return await console.jobs(
        protocol=protocol,
        kind=kind,
        status=status,
        job_type=type,
        node=node,
        q=q,
        before=before,
        limit=limit,
    )


@router.get("/jobs/{job_id}")
async def job(job_id: JobId, console: Console, _operator: CurrentOperator) -> dict[str, Any]:
    return await console.job(job_id)


@router.get("/jobs/{job_id}/why")
async def why(job_id: JobId, console: Console, _operator: CurrentOperator) -> dict[str, Any]:
    return await console.why(job_id)


@router.post("/jobs/{job_id}/cancel")
async def cancel(job_id: JobId, console: Console, operator: CurrentOperator) -> dict[str, Any]:
    return await console.cancel(job_id, operator.username)


@router.post("/jobs/{job_id}/retry")
async def retry(job_id: JobId, console: Console, operator: CurrentOperator) -> dict[str, Any]:
    return await console.retry(job_id, operator.username)


@router.get("/stats")
async def stats(console: Console, _operator: CurrentOperator) -> dict[str, Any]:
    return console.pulse.view()
