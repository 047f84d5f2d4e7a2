"""The super admin's side: log in, and manage managers (create, list, lifecycle, password reset)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from agenthub.auth import hash_password, verify_password
from agenthub.core.errors import Conflict
from agenthub.protocols.oas.context import Oas
from agenthub.protocols.oas.errors import OasError
from agenthub.protocols.oas.schemas import LoginIn, ManagerCreateIn, ManagerLifecycleIn
from agenthub.protocols.oas.security import CurrentSuper, LoginAttempt, Principal, issue
from agenthub.protocols.oas.user_configs import PasswordIn
from agenthub.protocols.oas.wire import as_utc, extended

BAD_CREDENTIALS = "账号或密码错误"


router = APIRouter(prefix="/api/v1/super")


@router.post("/auth/login", dependencies=[LoginAttempt])
async def login(body: LoginIn, oas: Oas) -> dict[str, Any]:
    found = await oas.managers.super_admin_hash(username=body.username)
    if found is None or not await verify_password(body.password, found[1]):
        raise OasError(401, BAD_CREDENTIALS)
    principal = Principal(role="super", subject_id=found[0])
    return {"token": issue(oas.runtime, principal, ttl_seconds=oas.settings.operator_token_ttl_seconds)}


@router.get("/managers")
async def managers(_admin: CurrentSuper, oas: Oas) -> dict[str, Any]:
    items = [m.to_wire(oas.now()) for m in await oas.managers.managers()]
    return {"data": {"items": items, "total": len(items)}}


@router.post("/managers", status_code=201)
async def create_manager(body: ManagerCreateIn, _admin: CurrentSuper, oas: Oas) -> JSONResponse:
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
    return JSONResponse({"data": manager.to_wire(oas.now())}, status_code=201)


@router.patch("/managers/{manager_id}/lifecycle")
async def lifecycle(
    manager_id: int, body: ManagerLifecycleIn, _admin: CurrentSuper, oas: Oas
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
    return {"data": updated.to_wire(oas.now())}


@router.patch("/managers/{manager_id}/password")
async def reset_password(manager_id: int, body: PasswordIn, _admin: CurrentSuper, oas: Oas) -> dict[str, Any]:
    updated = await oas.managers.update_manager(
        manager_id=manager_id,
        now=oas.now(),
        password_hash=await hash_password(body.password),
        new_token_version=True,  # the manager's and its agents' tokens stop working
    )
    if updated is None:
        raise OasError(404, "管理员不存在")
    await oas.accounts.changed("manager", manager_id)
    return {"data": {"message": "ok"}}
