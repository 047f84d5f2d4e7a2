"""Batch operations of the original frontend (users' lifecycle, assets, delete; managers' lifecycle), and the
single-user asset write and log purge it calls. A batch naming a user that is not the manager's changes
nothing (404)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from agenthub.protocols.oas.audit import note
from agenthub.protocols.oas.context import Oas
from agenthub.protocols.oas.errors import NOTHING_TO_UPDATE, OasError
from agenthub.protocols.oas.schemas_operator import (
    AssetsIn,
    BatchManagerLifecycleIn,
    BatchUserAssetsIn,
    BatchUserLifecycleIn,
    UserIdsIn,
)
from agenthub.protocols.oas.security import CurrentManager, CurrentSuper
from agenthub.protocols.oas.user_views import user_detail
from agenthub.protocols.oas.wire import as_utc, extended, fmt_time

router = APIRouter(prefix="/api/v1")


@router.post("/manager/users/batch-lifecycle")
async def batch_user_lifecycle(
    body: BatchUserLifecycleIn, manager: CurrentManager, oas: Oas, request: Request
) -> dict[str, Any]:
    if body.expires_at is None and body.extend_days is None and body.status is None:
        raise OasError(400, NOTHING_TO_UPDATE)
    now = oas.now()

    def values(row: Any) -> dict[str, Any]:
        changed: dict[str, Any] = {}
        if body.status is not None:
            changed["status"] = body.status
        expires_at = as_utc(body.expires_at) if body.expires_at is not None else row.expires_at
        if body.extend_days is not None:
            expires_at = extended(expires_at, now, body.extend_days)
        if body.expires_at is not None or body.extend_days is not None:
            changed["expires_at"] = expires_at
        return changed

    ids = await oas.batch.update_users(
        manager_id=manager.subject_id, user_ids=body.user_ids, now=now, values=values
    )
    for user_id in ids:
        await oas.accounts.changed("user", user_id)
    note(request, target_type="user", target_id=",".join(map(str, ids))[:64], detail={"user_ids": ids})
    return {"data": {"updated": len(ids), "user_ids": ids}}


@router.post("/manager/users/batch-assets")
async def batch_user_assets(
    body: BatchUserAssetsIn, manager: CurrentManager, oas: Oas, request: Request
) -> dict[str, Any]:
    def values(row: Any) -> dict[str, Any]:
        return {"assets": {**(row.assets or {}), **body.assets}}

    ids = await oas.batch.update_users(
        manager_id=manager.subject_id, user_ids=body.user_ids, now=oas.now(), values=values
    )
    note(request, target_type="user", target_id=",".join(map(str, ids))[:64], detail={"user_ids": ids})
    return {"data": {"updated": len(ids), "user_ids": ids}}


@router.post("/manager/users/batch-delete")
async def batch_delete_users(
    body: UserIdsIn, manager: CurrentManager, oas: Oas, request: Request
) -> dict[str, Any]:
    ids = await oas.batch.delete_users(manager_id=manager.subject_id, user_ids=body.user_ids)
    for user_id in ids:
        await oas.accounts.changed("user", user_id)
    note(request, target_type="user", target_id=",".join(map(str, ids))[:64], detail={"user_ids": ids})
    return {"data": {"deleted": len(ids), "user_ids": ids}}


@router.put("/manager/users/{user_id}/assets")
async def put_user_assets(user_id: int, body: AssetsIn, manager: CurrentManager, oas: Oas) -> dict[str, Any]:
    await oas.user_service.own(user_id=user_id, manager_id=manager.subject_id)
    updated = await oas.user_service.update(
        user_id=user_id, manager_id=manager.subject_id, assets=body.assets
    )
    return {
        "data": {
            "user_id": updated.id,
            "assets": updated.assets,
            "explore_progress": updated.explore_progress,
            "archive_status": updated.archive_status,
            "updated_at": fmt_time(updated.updated_at),
            "user": user_detail(updated),
        }
    }


@router.delete("/manager/users/{user_id}/logs")
async def delete_user_logs(user_id: int, manager: CurrentManager, oas: Oas) -> dict[str, Any]:
    await oas.user_service.own(user_id=user_id, manager_id=manager.subject_id)
    deleted = await oas.batch.delete_logs(user_id=user_id)
    return {"data": {"message": "ok", "deleted": deleted}}


@router.post("/super/managers/batch-lifecycle")
async def batch_manager_lifecycle(
    body: BatchManagerLifecycleIn, _admin: CurrentSuper, oas: Oas, request: Request
) -> dict[str, Any]:
    if body.expires_at is None and body.extend_days is None:
        raise OasError(400, NOTHING_TO_UPDATE)
    now = oas.now()

    def values(row: Any) -> dict[str, Any]:
        expires_at = as_utc(body.expires_at) if body.expires_at is not None else row.expires_at
        if body.extend_days is not None:
            expires_at = extended(expires_at, now, body.extend_days)
        return {"expires_at": expires_at}

    ids = await oas.batch.update_managers(manager_ids=body.manager_ids, now=now, values=values)
    for manager_id in ids:
        await oas.accounts.changed("manager", manager_id)
    detail = {
        "manager_ids": ids,
        "updated": len(ids),
        "extend_days": body.extend_days,
        "expires_at": fmt_time(as_utc(body.expires_at)),
    }
    note(request, target_type="manager", target_id=",".join(map(str, ids))[:64], detail=detail)
    return {"data": {"updated": len(ids), "manager_ids": ids}}
