"""The user's own pages: profile, tasks, lineup, logs, assets, notifications (prefix /api/v1/user/me)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from agenthub.protocols.oas.context import Oas
from agenthub.protocols.oas.security import CurrentUser
from agenthub.protocols.oas.user_configs import LineupIn, NotifyConfigIn, ProfileIn, TasksIn
from agenthub.protocols.oas.user_settings import checked_lineup, checked_notify, config_values
from agenthub.protocols.oas.user_views import tasks_view, user_detail
from agenthub.protocols.oas.wire import fmt_time

Page = Query(default=1, ge=1)
PageSize = Query(default=20, ge=1, le=200)


router = APIRouter(prefix="/api/v1/user/me")


@router.get("/profile")
async def profile(me: CurrentUser, oas: Oas) -> dict[str, Any]:
    user = await oas.user_service.own(user_id=me.subject_id)
    manager = await oas.managers.manager(manager_id=user.manager_id)
    return {"data": {**user_detail(user), "manager_alias": manager.alias if manager else ""}}


@router.put("/profile")
async def put_profile(body: ProfileIn, me: CurrentUser, oas: Oas) -> dict[str, Any]:
    user = await oas.user_service.own(user_id=me.subject_id)
    return {
        "data": user_detail(await oas.user_service.update(user_id=me.subject_id, **config_values(user, body)))
    }


@router.get("/tasks")
async def tasks(me: CurrentUser, oas: Oas) -> dict[str, Any]:
    return {"data": tasks_view(await oas.user_service.own(user_id=me.subject_id))}


@router.put("/tasks")
async def put_tasks(body: TasksIn, me: CurrentUser, oas: Oas) -> dict[str, Any]:
    user = await oas.user_service.write_tasks(
        user_id=me.subject_id, task_config=body.task_config, expected_version=body.version
    )
    return {"data": tasks_view(user)}


@router.get("/lineup")
async def lineup(me: CurrentUser, oas: Oas) -> dict[str, Any]:
    user = await oas.user_service.own(user_id=me.subject_id)
    return {"data": {"lineup_config": user.lineup_config}}


@router.put("/lineup")
async def put_lineup(body: LineupIn, me: CurrentUser, oas: Oas) -> dict[str, Any]:
    user = await oas.user_service.own(user_id=me.subject_id)
    updated = await oas.user_service.update(
        user_id=me.subject_id, lineup_config=checked_lineup(user, body.lineup_config)
    )
    return {"data": {"lineup_config": updated.lineup_config}}


@router.get("/logs")
async def logs(
    me: CurrentUser, oas: Oas, page: int = Page, page_size: int = PageSize, level: str | None = None
) -> dict[str, Any]:
    await oas.user_service.own(user_id=me.subject_id)
    items, total = await oas.user_logs.logs(
        user_id=me.subject_id, limit=page_size, offset=(page - 1) * page_size, level=level
    )
    return {"data": {"items": [e.to_wire() for e in items], "total": total}}


@router.get("/assets")
async def assets(me: CurrentUser, oas: Oas) -> dict[str, Any]:
    user = await oas.user_service.own(user_id=me.subject_id)
    return {
        "data": {
            "assets": user.assets,
            "explore_progress": user.explore_progress,
            "archive_status": user.archive_status,
            "updated_at": fmt_time(user.updated_at),
        }
    }


@router.get("/notify")
async def notify(me: CurrentUser, oas: Oas) -> dict[str, Any]:
    user = await oas.user_service.own(user_id=me.subject_id)
    return {"data": {"notify_config": user.notify_config}}


@router.put("/notify")
async def put_notify(body: NotifyConfigIn, me: CurrentUser, oas: Oas) -> dict[str, Any]:
    user = await oas.user_service.own(user_id=me.subject_id)
    updated = await oas.user_service.update(user_id=me.subject_id, notify_config=checked_notify(user, body))
    return {"data": {"notify_config": updated.notify_config}}
