"""The manager's side needed to run agents: log in, users, jobs and their events, nodes, user logs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request

from agenthub.auth import verify_password
from agenthub.core.errors import Conflict
from agenthub.core.jobs import JobQuery, JobStatus
from agenthub.protocols.oas.audit import note
from agenthub.protocols.oas.context import Oas
from agenthub.protocols.oas.envelope import OasResponse
from agenthub.protocols.oas.errors import OasError
from agenthub.protocols.oas.paging import Page, PageSize
from agenthub.protocols.oas.schemas import JobCreateIn, LoginIn, UserQuickCreateIn
from agenthub.protocols.oas.security import CurrentManager, LoginAttempt, Principal, issue
from agenthub.protocols.oas.service import NODE_KIND, TASK_KIND, task_job
from agenthub.protocols.oas.templates import TEMPLATES, USER_TYPES
from agenthub.protocols.oas.wire import as_utc, fmt_time, job_to_operator_wire

BAD_CREDENTIALS = "账号或密码错误"


router = APIRouter(prefix="/api/v1/manager")


@router.post("/auth/login", dependencies=[LoginAttempt])
async def login(body: LoginIn, oas: Oas, request: Request) -> dict[str, Any]:
    manager = await oas.managers.manager_by_username(username=body.username)
    if manager is None or not await verify_password(body.password, manager.password_hash):
        raise OasError(401, BAD_CREDENTIALS)
    # As the original: an expired (or never activated) manager still logs in, to see itself and redeem a
    # renewal key; every other manager route refuses it (403, `security.check_standing`).
    expired = not manager.is_active(oas.now())
    principal = Principal(
        role="manager", subject_id=manager.id, manager_id=manager.id, token_version=manager.token_version
    )
    token = issue(oas.runtime, principal, ttl_seconds=oas.settings.operator_token_ttl_seconds)
    note(request, actor_type=principal.role, actor_id=principal.subject_id)  # who logged in
    return {
        "token": token,
        "role": "manager",
        "manager_id": manager.id,
        "expires_at": manager.to_wire(oas.now())["expires_at"],
        "expired": expired,
        "message": "登录成功，账号已过期，请使用续费密钥续费" if expired else "登录成功",
        "manager": manager.to_wire(oas.now()),
    }


@router.post("/users/quick-create", status_code=201)
async def quick_create(body: UserQuickCreateIn, manager: CurrentManager, oas: Oas) -> OasResponse:
    try:
        user = await oas.users.create_user(
            manager_id=manager.subject_id,
            user_type=body.user_type,
            login_id=body.login_id,
            username=body.username,
            server=body.server,
            expires_at=oas.now() + timedelta(days=body.duration_days),
            now=oas.now(),
        )
    except Conflict as exc:
        raise OasError(409, "login_id 已存在") from exc
    return OasResponse({"data": user.to_wire()}, status_code=201)


@router.get("/users")
async def users(
    manager: CurrentManager,
    oas: Oas,
    page: int = Page,
    page_size: int = PageSize,
    user_type: str | None = None,
    status: str | None = None,
    keyword: str | None = None,
) -> dict[str, Any]:
    items, total = await oas.users.users(
        manager_id=manager.subject_id,
        limit=page_size,
        offset=(page - 1) * page_size,
        user_type=user_type,
        status=status,
        keyword=keyword,
    )
    counts = await oas.users.user_counts(manager_id=manager.subject_id, now=oas.now())
    types = await oas.stats.user_type_counts(manager_id=manager.subject_id)
    summary = {**counts, **{t: types.get(t, 0) for t in USER_TYPES}}
    return {"data": {"items": [u.to_wire() for u in items], "total": total, "summary": summary}}


@router.get("/users/{user_id}/logs")
async def user_logs(
    user_id: int,
    manager: CurrentManager,
    oas: Oas,
    page: int = Page,
    page_size: int = PageSize,
    level: str | None = None,
) -> dict[str, Any]:
    await oas.user_service.own(user_id=user_id, manager_id=manager.subject_id)
    items, total = await oas.user_logs.logs(
        user_id=user_id, limit=page_size, offset=(page - 1) * page_size, level=level
    )
    return {"data": {"items": [e.to_wire() for e in items], "total": total}}


@router.post("/jobs", status_code=201)
async def create_job(body: JobCreateIn, manager: CurrentManager, oas: Oas) -> OasResponse:
    template = TEMPLATES.get(body.task_type)
    if template is None:
        raise OasError(400, f"不支持的任务类型: {body.task_type}")
    await oas.user_service.own(user_id=body.user_id, manager_id=manager.subject_id)
    payload = {"user_id": body.user_id, "source": "manager", **(body.payload or {})}
    job = await oas.jobs.submit(
        task_job(
            manager_id=manager.subject_id,
            user_id=body.user_id,
            task_type=body.task_type,
            payload=payload,
            priority=body.priority if body.priority is not None else template.priority,
            max_attempts=body.max_attempts,
            scheduled_at=as_utc(body.scheduled_at),
        )
    )
    assert job is not None
    return OasResponse({"data": job_to_operator_wire(job)}, status_code=201)


@router.get("/jobs")
async def jobs(
    manager: CurrentManager,
    oas: Oas,
    page: int = Page,
    page_size: int = PageSize,
    status: str | None = None,
    user_id: int | None = None,
) -> dict[str, Any]:
    statuses = None
    if status:
        try:
            statuses = tuple(JobStatus(s) for s in status.split(","))
        except ValueError as exc:
            raise OasError(400, f"无效的任务状态: {status}") from exc
    items, total = await oas.runtime.engine.find(
        JobQuery(kind=TASK_KIND, owner_id=manager.subject_id, subject_id=user_id, statuses=statuses),
        limit=page_size,
        offset=(page - 1) * page_size,
    )
    return {"data": {"items": [job_to_operator_wire(j) for j in items], "total": total}}


@router.get("/jobs/{job_id}/events")
async def job_events(job_id: int, manager: CurrentManager, oas: Oas) -> dict[str, Any]:
    await oas.jobs.job(manager_id=manager.subject_id, job_id=job_id)
    events = await oas.runtime.engine.events(job_id)
    items = [
        {
            "id": e.id,
            "job_id": e.job_id,
            "event_type": e.type,
            "node_id": e.node_id or "",
            "message": e.message or "",
            "error_code": e.error_code or "",
            "data": e.data,
            "created_at": fmt_time(e.created_at),
        }
        for e in events
    ]
    return {"data": {"items": items, "total": len(items)}}


@router.get("/nodes")
async def nodes(manager: CurrentManager, oas: Oas) -> dict[str, Any]:
    window = timedelta(seconds=oas.runtime.settings.engine.node_silence_seconds)
    now = oas.now()
    items = [
        {
            "node_id": n.node_id,
            "status": "online" if n.is_online(now, window) else "offline",
            "version": n.version or "",
            "last_seen_at": fmt_time(n.last_seen_at),
            "created_at": fmt_time(n.created_at),
        }
        for n in await oas.runtime.engine.nodes(NODE_KIND, owner_id=manager.subject_id)
    ]
    return {"data": {"items": items, "total": len(items)}}
