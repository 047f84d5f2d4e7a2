"""Public status routes of the original: first run from the browser (is there a super admin yet; set the first
one up, refused afterwards) and whether the scheduler runs here."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from agenthub.auth import hash_password
from agenthub.protocols.oas.audit import note
from agenthub.protocols.oas.context import Oas
from agenthub.protocols.oas.envelope import OasResponse
from agenthub.protocols.oas.errors import OasError
from agenthub.protocols.oas.schemas_operator import BootstrapIn
from agenthub.protocols.oas.security import LoginAttempt

ALREADY = "系统已初始化"

router = APIRouter(prefix="/api/v1")


@router.get("/scheduler/status")
async def scheduler_status(oas: Oas) -> dict[str, Any]:
    if not oas.settings.scheduler_enabled:
        return {"data": {"enabled": False, "status": "disabled"}}
    return {
        "data": {"enabled": True, "status": {"interval_seconds": oas.settings.scheduler_interval_seconds}}
    }


@router.get("/bootstrap/status")
async def status(oas: Oas) -> dict[str, Any]:
    count = await oas.managers.super_admin_count()
    return {"data": {"initialized": count > 0, "super_admin_count": count}}


@router.post("/bootstrap/init", status_code=201, dependencies=[LoginAttempt])
async def init(body: BootstrapIn, oas: Oas, request: Request) -> OasResponse:
    created = await oas.managers.create_first_super_admin(
        username=body.username, password_hash=await hash_password(body.password), now=oas.now()
    )
    if created is None:
        raise OasError(409, ALREADY)
    note(request, actor_type="super", actor_id=created, target_type="super_admin", target_id=str(created))
    return OasResponse(
        {"data": {"message": "初始化成功", "initialized": True, "username": body.username}}, 201
    )
