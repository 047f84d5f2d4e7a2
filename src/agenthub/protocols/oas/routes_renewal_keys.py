"""Managers that sign themselves up, and the renewal keys that activate and extend them.

The super admin makes keys (each shown once), lists, revokes and deletes them; a manager registers itself
(not activated: it can log in, see itself and redeem a key, nothing else) and redeems a key to extend its
account by the key's `duration_days`. Every key is single-use; every use is audited with the use."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncConnection

from agenthub.auth import hash_password
from agenthub.core.errors import Conflict
from agenthub.protocols.oas.audit import Entry, client_ip, note, recorded
from agenthub.protocols.oas.codes_store import Kind
from agenthub.protocols.oas.context import Oas
from agenthub.protocols.oas.envelope import OasResponse
from agenthub.protocols.oas.errors import OasError
from agenthub.protocols.oas.paging import Page, PageSize, page_of
from agenthub.protocols.oas.schemas_operator import (
    CodeIn,
    CodeStatusIn,
    CredentialsIn,
    IdsIn,
    KeyIdsIn,
    RenewalKeyCreateIn,
)
from agenthub.protocols.oas.security import CurrentSuper, LoginAttempt, ManagerAnyStanding
from agenthub.protocols.oas.tables import managers
from agenthub.protocols.oas.wire import extended, fmt_time

KIND: Kind = "renewal_key"
KEY_NOT_FOUND = "续费密钥不存在"

router = APIRouter(prefix="/api/v1")


@router.post("/super/manager-renewal-keys", status_code=201)
async def create_keys(
    body: RenewalKeyCreateIn, admin: CurrentSuper, oas: Oas, request: Request
) -> OasResponse:
    audit = Entry(
        "super",
        admin.subject_id,
        "create_manager_renewal_key",
        detail={"duration_days": body.duration_days, "manager_type": body.manager_type},
        ip=client_ip(request),
    )
    created = await oas.codes.create(
        KIND,
        body.count,
        now=oas.now(),
        audit=audit,
        manager_type=body.manager_type,
        duration_days=body.duration_days,
        created_by=admin.subject_id,
        valid_days=body.valid_days,
    )
    recorded(request)
    return OasResponse({"data": created}, status_code=201)


@router.get("/super/manager-renewal-keys")
async def list_keys(
    _admin: CurrentSuper,
    oas: Oas,
    page: int = Page,
    page_size: int = PageSize,
    status: str | None = None,
    keyword: str | None = None,
) -> dict[str, Any]:
    items, total, summary = await oas.codes.page(
        KIND, now=oas.now(), limit=page_size, offset=(page - 1) * page_size, status=status, keyword=keyword
    )
    return page_of(items, total=total, summary=summary, page=page, page_size=page_size)


@router.patch("/super/manager-renewal-keys/{key_id}/status")
async def revoke_key(
    key_id: int, _body: CodeStatusIn, _admin: CurrentSuper, oas: Oas, request: Request
) -> dict[str, Any]:
    if not await oas.codes.owned_ids(KIND, [key_id], manager_id=None):
        raise OasError(404, KEY_NOT_FOUND)
    if not await oas.codes.revoke(KIND, [key_id]):
        raise OasError(400, "只能撤销未使用的续费密钥")
    note(request, detail={"status": "revoked"})
    return {"data": {"id": key_id, "status": "revoked"}}


@router.post("/super/manager-renewal-keys/batch-revoke")
async def batch_revoke_keys(
    body: KeyIdsIn, _admin: CurrentSuper, oas: Oas, request: Request
) -> dict[str, Any]:
    revoked = await oas.codes.revoke(KIND, body.key_ids)
    note(request, detail={"ids": revoked, "revoked": len(revoked)})
    return {"data": {"revoked": len(revoked), "ids": revoked}}


@router.delete("/super/manager-renewal-keys/{key_id}")
async def delete_key(key_id: int, _admin: CurrentSuper, oas: Oas, request: Request) -> dict[str, Any]:
    if not await oas.codes.delete(KIND, [key_id]):
        raise OasError(404, KEY_NOT_FOUND)
    note(request, detail={"status": "deleted"})
    return {"data": {"message": "ok", "id": key_id}}


@router.post("/super/manager-renewal-keys/batch-delete")
async def batch_delete_keys(body: IdsIn, _admin: CurrentSuper, oas: Oas, request: Request) -> dict[str, Any]:
    deleted = await oas.codes.delete(KIND, body.ids)
    note(request, detail={"ids": deleted, "deleted": len(deleted)})
    return {"data": {"deleted": len(deleted), "ids": deleted}}


@router.post("/manager/auth/register", status_code=201, dependencies=[LoginAttempt])
async def register(body: CredentialsIn, oas: Oas, request: Request) -> OasResponse:
    try:
        manager = await oas.managers.create_manager(
            username=body.username,
            password_hash=await hash_password(body.password),
            alias="",
            expires_at=None,  # not activated until a renewal key is redeemed
            now=oas.now(),
        )
    except Conflict as exc:
        raise OasError(409, "用户名已存在") from exc
    note(request, actor_type="manager", actor_id=manager.id, target_type="manager", target_id=str(manager.id))
    data = {"message": "注册成功，请使用续费密钥激活", "manager_id": manager.id, "username": manager.username}
    return OasResponse({"data": data}, status_code=201)


@router.post("/manager/auth/redeem-renewal-key")
async def redeem_key(body: CodeIn, me: ManagerAnyStanding, oas: Oas, request: Request) -> dict[str, Any]:
    now = oas.now()

    async def extend(conn: AsyncConnection, key: Any) -> dict[str, Any]:
        current = (
            await conn.execute(managers.select().where(managers.c.id == me.subject_id).with_for_update())
        ).one()
        expires_at = extended(current.expires_at, now, key["duration_days"])
        await conn.execute(
            managers.update()
            .where(managers.c.id == me.subject_id)
            .values(expires_at=expires_at, updated_at=now)
        )
        detail = {"duration_days": key["duration_days"], "expires_at": fmt_time(expires_at)}
        return {"used_by": me.subject_id, "expires_at": expires_at, "detail": detail}

    audit = Entry(
        "manager",
        me.subject_id,
        "redeem_manager_renewal_key",
        detail={"code": body.code.strip()[:7] + "…"},
        ip=client_ip(request),
    )
    result = await oas.codes.redeem(KIND, body.code, now=now, audit=audit, apply=extend)
    recorded(request)
    await oas.accounts.changed("manager", me.subject_id)
    return {
        "data": {
            "message": "续费成功",
            "manager_id": me.subject_id,
            "expires_at": fmt_time(result["expires_at"]),
            "expired": False,
        }
    }
