"""Activation codes: a manager makes them (each shown once), lists, revokes and deletes its own; a user
registers with one (a new account under the code's manager) or redeems one to extend its account.
Every code is single-use; every use is audited with the use. A manager only ever sees and touches its own.
Also the user's logout (its tokens so far stop working), the last of the user's `auth` routes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncConnection

from agenthub.protocols.oas.audit import Entry, client_ip, note, recorded
from agenthub.protocols.oas.codes_store import Kind
from agenthub.protocols.oas.context import Oas
from agenthub.protocols.oas.envelope import OasResponse
from agenthub.protocols.oas.errors import OasError
from agenthub.protocols.oas.paging import Page, PageSize, page_of
from agenthub.protocols.oas.schemas_operator import (
    ActivationCodeCreateIn,
    CodeIdsIn,
    CodeIn,
    CodeStatusIn,
)
from agenthub.protocols.oas.security import CurrentManager, CurrentUser, LoginAttempt, Principal, issue
from agenthub.protocols.oas.tables import users
from agenthub.protocols.oas.wire import extended, fmt_time

KIND: Kind = "activation_code"
CODE_NOT_FOUND = "激活码不存在"

router = APIRouter(prefix="/api/v1")


@router.post("/manager/activation-codes", status_code=201)
async def create_codes(
    body: ActivationCodeCreateIn, manager: CurrentManager, oas: Oas, request: Request
) -> OasResponse:
    audit = Entry(
        "manager",
        manager.subject_id,
        "POST /manager/activation-codes",
        detail={"duration_days": body.duration_days, "user_type": body.user_type},
        ip=client_ip(request),
    )
    created = await oas.codes.create(
        KIND,
        body.count,
        now=oas.now(),
        audit=audit,
        manager_id=manager.subject_id,
        user_type=body.user_type,
        duration_days=body.duration_days,
        valid_days=body.valid_days,
    )
    recorded(request)
    return OasResponse({"data": created}, status_code=201)


@router.get("/manager/activation-codes")
async def list_codes(
    manager: CurrentManager,
    oas: Oas,
    page: int = Page,
    page_size: int = PageSize,
    status: str | None = None,
    keyword: str | None = None,
    user_type: str | None = None,
) -> dict[str, Any]:
    items, total, summary = await oas.codes.page(
        KIND,
        now=oas.now(),
        limit=page_size,
        offset=(page - 1) * page_size,
        manager_id=manager.subject_id,
        status=status,
        keyword=keyword,
        user_type=user_type,
    )
    return page_of(items, total=total, summary=summary, page=page, page_size=page_size)


async def _own_all(oas: Oas, ids: list[int], manager: Principal) -> None:
    """A batch naming a code that is not the manager's changes nothing."""
    owned = await oas.codes.owned_ids(KIND, ids, manager_id=manager.subject_id)
    if owned != set(ids):
        raise OasError(404, CODE_NOT_FOUND)


@router.patch("/manager/activation-codes/{code_id}/status")
async def revoke_code(code_id: int, _body: CodeStatusIn, manager: CurrentManager, oas: Oas) -> dict[str, Any]:
    await _own_all(oas, [code_id], manager)
    if not await oas.codes.revoke(KIND, [code_id], manager_id=manager.subject_id):
        raise OasError(400, "只能撤销未使用的激活码")
    return {"data": {"id": code_id, "status": "revoked"}}


@router.post("/manager/activation-codes/batch-revoke")
async def batch_revoke_codes(
    body: CodeIdsIn, manager: CurrentManager, oas: Oas, request: Request
) -> dict[str, Any]:
    await _own_all(oas, body.code_ids, manager)
    revoked = await oas.codes.revoke(KIND, body.code_ids, manager_id=manager.subject_id)
    note(request, detail={"ids": revoked})
    return {"data": {"revoked": len(revoked), "ids": revoked}}


@router.delete("/manager/activation-codes/{code_id}")
async def delete_code(code_id: int, manager: CurrentManager, oas: Oas) -> dict[str, Any]:
    if not await oas.codes.delete(KIND, [code_id], manager_id=manager.subject_id):
        raise OasError(404, CODE_NOT_FOUND)
    return {"data": {"message": "ok", "id": code_id}}


@router.post("/manager/activation-codes/batch-delete")
async def batch_delete_codes(
    body: CodeIdsIn, manager: CurrentManager, oas: Oas, request: Request
) -> dict[str, Any]:
    await _own_all(oas, body.code_ids, manager)
    deleted = await oas.codes.delete(KIND, body.code_ids, manager_id=manager.subject_id)
    note(request, detail={"ids": deleted})
    return {"data": {"deleted": len(deleted), "ids": deleted}}


@router.post("/user/auth/register-by-code", status_code=201, dependencies=[LoginAttempt])
async def register_by_code(body: CodeIn, oas: Oas, request: Request) -> OasResponse:
    now = oas.now()

    async def create(conn: AsyncConnection, code: Any) -> dict[str, Any]:
        user = await oas.users.create_user(
            manager_id=code["manager_id"],
            user_type=code["user_type"],
            login_id=None,
            username="",
            server="",
            expires_at=now + timedelta(days=code["duration_days"]),
            now=now,
            conn=conn,
        )
        return {
            "used_by": user.id,
            "user": user,
            "detail": {"user_id": user.id, "account_no": user.account_no},
        }

    audit = Entry("anonymous", None, "POST /user/auth/register-by-code", ip=client_ip(request))
    result = await oas.codes.redeem(KIND, body.code, now=now, audit=audit, apply=create)
    recorded(request)
    user = result["user"]
    principal = Principal(role="user", subject_id=user.id, manager_id=user.manager_id, token_version=0)
    token = issue(oas.runtime, principal, ttl_seconds=oas.settings.operator_token_ttl_seconds)
    data = {
        "token": token,
        "account_no": user.account_no,
        "login_id": user.login_id,
        "user_type": user.user_type,
        "expires_at": fmt_time(user.expires_at),
        "manager_id": user.manager_id,
        "user": user.to_wire(),
    }
    return OasResponse({"data": data}, status_code=201)


@router.post("/user/auth/redeem-code")
async def redeem_code(body: CodeIn, me: CurrentUser, oas: Oas, request: Request) -> dict[str, Any]:
    now = oas.now()

    async def extend(conn: AsyncConnection, code: Any) -> dict[str, Any]:
        current = (
            await conn.execute(users.select().where(users.c.id == me.subject_id).with_for_update())
        ).one()
        if current.manager_id != code["manager_id"]:
            raise OasError(400, "激活码不属于你的管理员")  # rolls the claim back
        expires_at = extended(current.expires_at, now, code["duration_days"])
        values: dict[str, Any] = {"expires_at": expires_at, "updated_at": now}
        if current.status == "expired":
            values["status"] = "active"
        await conn.execute(users.update().where(users.c.id == me.subject_id).values(**values))
        detail = {"duration_days": code["duration_days"], "expires_at": fmt_time(expires_at)}
        return {"used_by": me.subject_id, "expires_at": expires_at, "detail": detail}

    audit = Entry("user", me.subject_id, "POST /user/auth/redeem-code", ip=client_ip(request))
    result = await oas.codes.redeem(KIND, body.code, now=now, audit=audit, apply=extend)
    recorded(request)
    await oas.accounts.changed("user", me.subject_id)
    return {"data": {"message": "续费成功", "expires_at": fmt_time(result["expires_at"])}}


@router.post("/user/auth/logout")
async def logout(me: CurrentUser, oas: Oas) -> dict[str, Any]:
    await oas.users.update_user(user_id=me.subject_id, now=oas.now(), token_version=users.c.token_version + 1)
    await oas.accounts.changed("user", me.subject_id)
    return {"data": {"message": "ok"}}
