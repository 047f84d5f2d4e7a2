"""Seed 000 section 4: the agent's endpoints (login, jobs, user config, logs)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Response

from agenthub.auth import verify_password
from agenthub.protocols.oas.context import Oas, OasContext
from agenthub.protocols.oas.errors import NOTHING_TO_UPDATE, OasError
from agenthub.protocols.oas.schemas import (
    AgentLoginIn,
    CompleteIn,
    ExploreProgressIn,
    FailIn,
    GameProfileIn,
    LeaseIn,
    LogsIn,
    PollJobsIn,
)
from agenthub.protocols.oas.security import (
    MANAGER_INACTIVE,
    AgentCall,
    AgentLease,
    CurrentAgent,
    LoginAttempt,
    Principal,
    agent_call,
    agent_lease,
    issue,
)
from agenthub.protocols.oas.wire import as_utc, fmt_time, job_to_wire

BAD_CREDENTIALS = "账号或密码错误"
NODE_TAKEN = "node_id 已被其他管理员的节点使用"

router = APIRouter(prefix="/api/v1/agent")

PollCall = Annotated[AgentCall[PollJobsIn], agent_call(PollJobsIn)]
LeaseCall = Annotated[AgentLease[LeaseIn], agent_lease(LeaseIn)]
CompleteCall = Annotated[AgentLease[CompleteIn], agent_lease(CompleteIn)]
FailCall = Annotated[AgentLease[FailIn], agent_lease(FailIn)]


@router.post("/auth/login", dependencies=[LoginAttempt])
async def login(body: AgentLoginIn, oas: Oas) -> dict[str, Any]:
    manager = await oas.managers.manager_by_username(username=body.username)
    if manager is None or not await verify_password(body.password, manager.password_hash):
        raise OasError(401, BAD_CREDENTIALS)
    if not manager.is_active(oas.now()):
        raise OasError(403, MANAGER_INACTIVE)
    # A node id belongs to the manager whose agent first used it: another manager's agent cannot take the
    # node (and its place in that manager's node list) over by naming it.
    if not await oas.jobs.node_is_free_for(manager_id=manager.id, node_id=body.node_id):
        raise OasError(409, NODE_TAKEN)
    await oas.jobs.node_seen(manager_id=manager.id, node_id=body.node_id, version=body.version)
    principal = Principal(
        role="agent",
        subject_id=manager.id,
        manager_id=manager.id,
        node_id=body.node_id,
        token_version=manager.token_version,
    )
    token = issue(oas.runtime, principal, ttl_seconds=oas.settings.agent_token_ttl_seconds)
    return {"token": token, "manager_id": manager.id, "node_id": body.node_id}


# The job calls' work, shared by the routes below and by the fast path in front of FastAPI (fast_path.py).


async def poll_jobs_reply(oas: OasContext, call: AgentCall[PollJobsIn]) -> dict[str, Any]:
    # The token's account standing was checked already (agents of an expired manager get no work).
    await oas.presence(call.agent)
    body = call.body
    jobs = await oas.jobs.poll(
        manager_id=call.manager_id,
        node_id=call.node_id,
        limit=min(body.limit, oas.settings.max_poll_limit),
        lease_seconds=body.lease_seconds,
    )
    lease_until = jobs[0].lease_until if jobs else oas.now() + timedelta(seconds=body.lease_seconds)
    return {"jobs": [job_to_wire(job) for job in jobs], "lease_until": fmt_time(lease_until)}


async def start_job(oas: OasContext, lease: AgentLease[LeaseIn]) -> None:
    await oas.jobs.start(
        manager_id=lease.manager_id,
        job_id=lease.job_id,
        node_id=lease.node_id,
        lease_seconds=lease.body.lease_seconds,
        message=lease.body.message,
    )
    await oas.presence(lease.agent)


async def heartbeat_job(oas: OasContext, lease: AgentLease[LeaseIn]) -> None:
    await oas.jobs.heartbeat(
        manager_id=lease.manager_id,
        job_id=lease.job_id,
        node_id=lease.node_id,
        lease_seconds=lease.body.lease_seconds,
        message=lease.body.message,
    )
    await oas.presence(lease.agent)


async def complete_job(oas: OasContext, lease: AgentLease[CompleteIn]) -> None:
    await oas.jobs.complete(
        manager_id=lease.manager_id,
        job_id=lease.job_id,
        node_id=lease.node_id,
        message=lease.body.message,
        result=lease.body.result,
    )


async def fail_job(oas: OasContext, lease: AgentLease[FailIn]) -> None:
    await oas.jobs.fail(
        manager_id=lease.manager_id,
        job_id=lease.job_id,
        node_id=lease.node_id,
        message=lease.body.message,
        error_code=lease.body.error_code,
        result=lease.body.result,
    )


@router.post("/poll-jobs")
async def poll_jobs(call: PollCall, oas: Oas) -> dict[str, Any]:
    return await poll_jobs_reply(oas, call)


@router.post("/jobs/{job_id}/start")
async def start(lease: LeaseCall, oas: Oas) -> Response:
    await start_job(oas, lease)
    return Response(status_code=200)


@router.post("/jobs/{job_id}/heartbeat")
async def heartbeat(lease: LeaseCall, oas: Oas) -> Response:
    await heartbeat_job(oas, lease)
    return Response(status_code=200)


@router.post("/jobs/{job_id}/complete")
async def complete(lease: CompleteCall, oas: Oas) -> Response:
    await complete_job(oas, lease)
    return Response(status_code=200)


@router.post("/jobs/{job_id}/fail")
async def fail(lease: FailCall, oas: Oas) -> Response:
    await fail_job(oas, lease)
    return Response(status_code=200)


@router.get("/users/{user_id}/full-config")
async def full_config(user_id: int, agent: CurrentAgent, oas: Oas) -> dict[str, Any]:
    user = await oas.user_service.own(user_id=user_id, manager_id=agent.manager_id)
    config = await oas.full_config(user)
    # The seed wraps the config in "data"; the original client reads the keys at the top level.
    return {"data": config, **config}


@router.patch("/users/{user_id}/game-profile")
async def game_profile(user_id: int, body: GameProfileIn, agent: CurrentAgent, oas: Oas) -> Response:
    values = body.model_dump(exclude_none=True)
    if not values:
        raise OasError(400, NOTHING_TO_UPDATE)
    await oas.user_service.update(user_id=user_id, manager_id=agent.manager_id, **values)
    return Response(status_code=200)


@router.put("/users/{user_id}/explore-progress")
async def explore_progress(user_id: int, body: ExploreProgressIn, agent: CurrentAgent, oas: Oas) -> Response:
    await oas.user_service.update(
        user_id=user_id, manager_id=agent.manager_id, explore_progress=body.progress
    )
    return Response(status_code=200)


@router.post("/users/{user_id}/logs")
async def logs(user_id: int, body: LogsIn, agent: CurrentAgent, oas: Oas) -> Response:
    if len(body.logs) > oas.settings.max_logs_per_request:
        raise OasError(400, f"单次最多上报 {oas.settings.max_logs_per_request} 条日志")
    await oas.user_service.own(user_id=user_id, manager_id=agent.manager_id)
    now = oas.now()
    entries = [
        {"type": e.type, "level": e.level.upper(), "message": e.message, "ts": as_utc(e.ts) or now}
        for e in body.logs
    ]
    await oas.user_logs.add_logs(
        user_id=user_id, manager_id=agent.manager_id, node_id=agent.node_id, entries=entries, now=now
    )
    return Response(status_code=200)
