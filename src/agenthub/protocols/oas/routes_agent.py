"""Seed 000 section 4: the agent's endpoints (login, jobs, user config, logs)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Response

from agenthub.auth import verify_password
from agenthub.protocols.oas.context import Oas
from agenthub.protocols.oas.errors import USER_NOT_FOUND, OasError
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
from agenthub.protocols.oas.security import CurrentAgent, Principal, issue, same_node
from agenthub.protocols.oas.wire import as_utc, fmt_time, job_to_wire

BAD_CREDENTIALS = "账号或密码错误"
MANAGER_INACTIVE = "管理员账号未激活或已过期"


def router() -> APIRouter:
    api = APIRouter(prefix="/api/v1/agent")

    @api.post("/auth/login")
    async def login(body: AgentLoginIn, oas: Oas) -> dict[str, Any]:
        manager = await oas.repo.manager_by_username(username=body.username)
        if manager is None or not await verify_password(body.password, manager.password_hash):
            raise OasError(401, BAD_CREDENTIALS)
        if not manager.is_active(oas.now()):
            raise OasError(403, MANAGER_INACTIVE)
        await oas.jobs.node_seen(manager_id=manager.id, node_id=body.node_id, version=body.version)
        principal = Principal(
            role="agent", subject_id=manager.id, manager_id=manager.id, node_id=body.node_id
        )
        token = issue(oas.runtime, principal, ttl_seconds=oas.settings.agent_token_ttl_seconds)
        return {"token": token, "manager_id": manager.id, "node_id": body.node_id}

    @api.post("/poll-jobs")
    async def poll_jobs(body: PollJobsIn, agent: CurrentAgent, oas: Oas) -> dict[str, Any]:
        same_node(agent, body.node_id)
        manager = await oas.repo.manager(manager_id=_manager_id(agent))
        if manager is None or not manager.is_active(oas.now()):
            raise OasError(403, MANAGER_INACTIVE)
        await oas.presence(agent)
        limit = min(body.limit, oas.settings.max_poll_limit)
        jobs = await oas.jobs.poll(
            manager_id=manager.id, node_id=body.node_id, limit=limit, lease_seconds=body.lease_seconds
        )
        lease_until = jobs[0].lease_until if jobs else oas.now() + timedelta(seconds=body.lease_seconds)
        return {"jobs": [job_to_wire(job) for job in jobs], "lease_until": fmt_time(lease_until)}

    @api.post("/jobs/{job_id}/start")
    async def start(job_id: int, body: LeaseIn, agent: CurrentAgent, oas: Oas) -> Response:
        same_node(agent, body.node_id)
        await oas.jobs.start(
            manager_id=_manager_id(agent),
            job_id=job_id,
            node_id=body.node_id,
            lease_seconds=body.lease_seconds,
            message=body.message,
        )
        await oas.presence(agent)
        return Response(status_code=200)

    @api.post("/jobs/{job_id}/heartbeat")
    async def heartbeat(job_id: int, body: LeaseIn, agent: CurrentAgent, oas: Oas) -> Response:
        same_node(agent, body.node_id)
        await oas.jobs.heartbeat(
            manager_id=_manager_id(agent),
            job_id=job_id,
            node_id=body.node_id,
            lease_seconds=body.lease_seconds,
            message=body.message,
        )
        await oas.presence(agent)
        return Response(status_code=200)

    @api.post("/jobs/{job_id}/complete")
    async def complete(job_id: int, body: CompleteIn, agent: CurrentAgent, oas: Oas) -> Response:
        same_node(agent, body.node_id)
        change = await oas.jobs.complete(
            manager_id=_manager_id(agent),
            job_id=job_id,
            node_id=body.node_id,
            message=body.message,
            result=body.result,
        )
        await oas.after_report(change)
        return Response(status_code=200)

    @api.post("/jobs/{job_id}/fail")
    async def fail(job_id: int, body: FailIn, agent: CurrentAgent, oas: Oas) -> Response:
        same_node(agent, body.node_id)
        change = await oas.jobs.fail(
            manager_id=_manager_id(agent),
            job_id=job_id,
            node_id=body.node_id,
            message=body.message,
            error_code=body.error_code,
            result=body.result,
        )
        await oas.after_report(change)
        return Response(status_code=200)

    @api.get("/users/{user_id}/full-config")
    async def full_config(user_id: int, agent: CurrentAgent, oas: Oas) -> dict[str, Any]:
        user = await oas.repo.user(user_id=user_id, manager_id=_manager_id(agent))
        if user is None:
            raise OasError(404, USER_NOT_FOUND)
        config = await oas.full_config(user)
        # The seed wraps the config in "data"; the original client reads the keys at the top level.
        return {"data": config, **config}

    @api.patch("/users/{user_id}/game-profile")
    async def game_profile(user_id: int, body: GameProfileIn, agent: CurrentAgent, oas: Oas) -> Response:
        values = body.model_dump(exclude_none=True)
        if not values:
            raise OasError(400, "没有可更新的字段")
        user = await oas.repo.update_user(
            user_id=user_id, manager_id=_manager_id(agent), now=oas.now(), **values
        )
        if user is None:
            raise OasError(404, USER_NOT_FOUND)
        return Response(status_code=200)

    @api.put("/users/{user_id}/explore-progress")
    async def explore_progress(
        user_id: int, body: ExploreProgressIn, agent: CurrentAgent, oas: Oas
    ) -> Response:
        user = await oas.repo.update_user(
            user_id=user_id, manager_id=_manager_id(agent), now=oas.now(), explore_progress=body.progress
        )
        if user is None:
            raise OasError(404, USER_NOT_FOUND)
        return Response(status_code=200)

    @api.post("/users/{user_id}/logs")
    async def logs(user_id: int, body: LogsIn, agent: CurrentAgent, oas: Oas) -> Response:
        if len(body.logs) > oas.settings.max_logs_per_request:
            raise OasError(400, f"单次最多上报 {oas.settings.max_logs_per_request} 条日志")
        manager_id = _manager_id(agent)
        if await oas.repo.user(user_id=user_id, manager_id=manager_id) is None:
            raise OasError(404, USER_NOT_FOUND)
        now = oas.now()
        entries = [
            {"type": e.type, "level": e.level.upper(), "message": e.message, "ts": as_utc(e.ts) or now}
            for e in body.logs
        ]
        await oas.repo.add_logs(
            user_id=user_id, manager_id=manager_id, node_id=agent.node_id, entries=entries, now=now
        )
        return Response(status_code=200)

    return api


def _manager_id(agent: Principal) -> int:
    assert agent.manager_id is not None
    return agent.manager_id
