"""The user's own pages: profile, tasks, lineup, logs, assets, notifications (prefix /api/v1/user/me)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from agenthub.protocols.oas.context import Oas
from agenthub.protocols.oas.errors import USER_NOT_FOUND, OasError
from agenthub.protocols.oas.records import User
from agenthub.protocols.oas.security import CurrentUser, Principal
from agenthub.protocols.oas.user_configs import LineupIn, NotifyConfigIn, ProfileIn, TasksIn
from agenthub.protocols.oas.user_views import (
    checked_lineup,
    checked_notify,
    config_values,
    own_user,
    tasks_view,
    user_detail,
    write_tasks,
)
from agenthub.protocols.oas.wire import fmt_time

Page = Query(default=1, ge=1)
PageSize = Query(default=20, ge=1, le=200)


def router() -> APIRouter:
    api = APIRouter(prefix="/api/v1/user/me")

    @api.get("/profile")
    async def profile(me: CurrentUser, oas: Oas) -> dict[str, Any]:
        return {"data": user_detail(await own_user(oas, user_id=me.subject_id))}

    @api.put("/profile")
    async def put_profile(body: ProfileIn, me: CurrentUser, oas: Oas) -> dict[str, Any]:
        user = await own_user(oas, user_id=me.subject_id)
        return {"data": user_detail(await _update(oas, me, **config_values(user, body)))}

    @api.get("/tasks")
    async def tasks(me: CurrentUser, oas: Oas) -> dict[str, Any]:
        return {"data": tasks_view(await own_user(oas, user_id=me.subject_id))}

    @api.put("/tasks")
    async def put_tasks(body: TasksIn, me: CurrentUser, oas: Oas) -> dict[str, Any]:
        return {"data": await write_tasks(oas, user_id=me.subject_id, body=body)}

    @api.get("/lineup")
    async def lineup(me: CurrentUser, oas: Oas) -> dict[str, Any]:
        user = await own_user(oas, user_id=me.subject_id)
        return {"data": {"lineup_config": user.lineup_config}}

    @api.put("/lineup")
    async def put_lineup(body: LineupIn, me: CurrentUser, oas: Oas) -> dict[str, Any]:
        user = await own_user(oas, user_id=me.subject_id)
        updated = await _update(oas, me, lineup_config=checked_lineup(user, body.lineup_config))
        return {"data": {"lineup_config": updated.lineup_config}}

    @api.get("/logs")
    async def logs(
        me: CurrentUser, oas: Oas, page: int = Page, page_size: int = PageSize, level: str | None = None
    ) -> dict[str, Any]:
        await own_user(oas, user_id=me.subject_id)
        items, total = await oas.repo.logs(
            user_id=me.subject_id, limit=page_size, offset=(page - 1) * page_size, level=level
        )
        return {"data": {"items": [e.to_wire() for e in items], "total": total}}

    @api.get("/assets")
    async def assets(me: CurrentUser, oas: Oas) -> dict[str, Any]:
        user = await own_user(oas, user_id=me.subject_id)
        return {
            "data": {
                "assets": user.assets,
                "explore_progress": user.explore_progress,
                "archive_status": user.archive_status,
                "updated_at": fmt_time(user.updated_at),
            }
        }

    @api.get("/notify")
    async def notify(me: CurrentUser, oas: Oas) -> dict[str, Any]:
        user = await own_user(oas, user_id=me.subject_id)
        return {"data": {"notify_config": user.notify_config}}

    @api.put("/notify")
    async def put_notify(body: NotifyConfigIn, me: CurrentUser, oas: Oas) -> dict[str, Any]:
        user = await own_user(oas, user_id=me.subject_id)
        updated = await _update(oas, me, notify_config=checked_notify(user, body))
        return {"data": {"notify_config": updated.notify_config}}

    return api


async def _update(oas: Oas, me: Principal, **values: Any) -> User:
    updated = await oas.repo.update_user(user_id=me.subject_id, now=oas.now(), **values)
    if updated is None:
        raise OasError(404, USER_NOT_FOUND)
    return updated
