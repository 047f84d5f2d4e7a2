"""The super admin's side: log in, and manage managers (create, list, lifecycle, password reset)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request

from agenthub.auth import hash_password, verify_password
from agenthub.core.errors import Conflict
from agenthub.protocols.oas.audit import note
from agenthub.protocols.oas.context import Oas
from agenthub.protocols.oas.envelope import OasResponse
from agenthub.protocols.oas.errors import OasError
from agenthub.protocols.oas.schemas import LoginIn, ManagerCreateIn, ManagerLifecycleIn
from agenthub.protocols.oas.security import CurrentSuper, LoginAttempt, Principal, issue
from agenthub.protocols.oas.user_configs import PasswordIn
from agenthub.protocols.oas.wire import as_utc, extended, fmt_time

BAD_CREDENTIALS = "账号或密码错误"


router = APIRouter(prefix="/api/v1/super")


@router.post("/auth/login", dependencies=[LoginAttempt])
async def login(body: LoginIn, oas: Oas, request: Request) -> dict[str, Any]:
    found = await oas.managers.super_admin_hash(username=body.username)
    if found is None or not await verify_password(body.password, found[1]):
        raise OasError(401, BAD_CREDENTIALS)
    principal = Principal(role="super", subject_id=found[0])
    note(request, actor_type=principal.role, actor_id=principal.subject_id)  # who logged in
    return {"token": issue(oas.runtime, principal, ttl_seconds=oas.settings.operator_token_ttl_seconds)}


@router.get("/managers")
async def managers(_admin: CurrentSuper, oas: Oas, keyword: str | None = None) -> dict[str, Any]:
    now = oas.now()
    counts = await oas.stats.user_counts_by_manager(now=now)
    none = {"total_users": 0, "active_users": 0, "expired_users": 0}
    found = await oas.managers.managers()
    shown = [m for m in found if not keyword or keyword in m.username or keyword in m.alias]
    items = [{**m.to_wire(now), "expired": not m.is_active(now), **counts.get(m.id, none)} for m in shown]
    soon = now + timedelta(days=7)
    summary = {
        "total": len(found),
        "active": sum(1 for m in found if m.is_active(now)),
        "expired": sum(1 for m in found if not m.is_active(now)),
        "expiring_7d": sum(1 for m in found if m.is_active(now) and m.expires_at and m.expires_at <= soon),
    }
    return {"data": {"items": items, "total": len(items), "summary": summary}}  # summary: all managers


@router.post("/managers", status_code=201)
async def create_manager(body: ManagerCreateIn, _admin: CurrentSuper, oas: Oas) -> OasResponse:
    try:
        manager = await oas.managers.create_manager(
            username=body.username,
            password_hash=await hash_password(body.password),
            alias=body.alias,
            expires_at=as_utc(body.expires_at),
            now=oas.now(),
        )
    except Conflict as exc:
        raise OasError(409, "用户名已存在") from exc
    return OasResponse({"data": manager.to_wire(oas.now())}, status_code=201)


@router.patch("/managers/{manager_id}/lifecycle")
async def lifecycle(
    manager_id: int, body: ManagerLifecycleIn, _admin: CurrentSuper, oas: Oas, request: Request
) -> dict[str, Any]:
    manager = await oas.managers.manager(manager_id=manager_id)
    if manager is None:
        raise OasError(404, "管理员不存在")
    if body.expires_at is None and body.extend_days is None:
        raise OasError(400, "没有可更新的字段")
    expires_at = as_utc(body.expires_at) if body.expires_at is not None else manager.expires_at
    if body.extend_days is not None:
        expires_at = extended(expires_at, oas.now(), body.extend_days)
    updated = await oas.managers.update_manager(manager_id=manager_id, now=oas.now(), expires_at=expires_at)
    assert updated is not None
    await oas.accounts.changed("manager", manager_id)
    note(request, detail={"extend_days": body.extend_days, "expires_at": fmt_time(expires_at)})
    return {"data": updated.to_wire(oas.now())}


@router.patch("/managers/{manager_id}/password")
async def reset_password(
    manager_id: int, body: PasswordIn, _admin: CurrentSuper, oas: Oas, request: Request
) -> dict[str, Any]:
    updated = await oas.managers.update_manager(
        manager_id=manager_id,
        now=oas.now(),
        password_hash=await hash_password(body.password),
        new_token_version=True,  # the manager's and its agents' tokens stop working
    )
    if updated is None:
        raise OasError(404, "管理员不存在")
    note(request, detail={"manager_username": updated.username})
    await oas.accounts.changed("manager", manager_id)
    return {"data": {"message": "ok"}}
