"""The manager's users: overview, one user, lifecycle, delete, settings, tasks, assets."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter

from agenthub.core.jobs import JobQuery
from agenthub.protocols.oas.context import Oas
from agenthub.protocols.oas.errors import USER_NOT_FOUND, OasError
from agenthub.protocols.oas.security import CurrentManager
from agenthub.protocols.oas.service import NODE_KIND, TASK_KIND
from agenthub.protocols.oas.user_configs import TasksIn, UserLifecycleIn, UserSettingsIn
from agenthub.protocols.oas.user_views import config_values, own_user, tasks_view, user_detail, write_tasks
from agenthub.protocols.oas.wire import as_utc, fmt_time

OK = {"data": {"message": "ok"}}


def router() -> APIRouter:
    api = APIRouter(prefix="/api/v1/manager")

    @api.get("/overview")
    async def overview(manager: CurrentManager, oas: Oas) -> dict[str, Any]:
        now = oas.now()
        engine = oas.runtime.engine
        nodes = await engine.nodes(NODE_KIND, owner_id=manager.subject_id)
        counts = await engine.count_by(JobQuery(kind=TASK_KIND, owner_id=manager.subject_id), "status")
        jobs = {status: n for (status,), n in counts.items()}
        return {
            "data": {
                "users": await oas.ops.user_counts(manager_id=manager.subject_id, now=now),
                "jobs": jobs,
                "nodes": {
                    "total": len(nodes),
                    "online": sum(1 for n in nodes if engine.is_online(n)),
                },
            }
        }

    @api.get("/users/{user_id}")
    async def user(user_id: int, manager: CurrentManager, oas: Oas) -> dict[str, Any]:
        found = await own_user(oas, user_id=user_id, manager_id=manager.subject_id)
        return {"data": user_detail(found)}

    @api.patch("/users/{user_id}/lifecycle")
    async def lifecycle(
        user_id: int, body: UserLifecycleIn, manager: CurrentManager, oas: Oas
    ) -> dict[str, Any]:
        found = await own_user(oas, user_id=user_id, manager_id=manager.subject_id)
        values: dict[str, Any] = body.model_dump(include={"status", "archive_status"}, exclude_none=True)
        expires_at = as_utc(body.expires_at) if body.expires_at is not None else found.expires_at
        if body.extend_days is not None:
            expires_at = max(expires_at or oas.now(), oas.now()) + timedelta(days=body.extend_days)
        if body.expires_at is not None or body.extend_days is not None:
            values["expires_at"] = expires_at
        if not values:
            raise OasError(400, "没有可更新的字段")
        updated = await oas.repo.update_user(
            user_id=user_id, manager_id=manager.subject_id, now=oas.now(), **values
        )
        if updated is None:
            raise OasError(404, USER_NOT_FOUND)
        return {"data": user_detail(updated)}

    @api.delete("/users/{user_id}")
    async def delete_user(user_id: int, manager: CurrentManager, oas: Oas) -> dict[str, Any]:
        if not await oas.ops.delete_user(user_id=user_id, manager_id=manager.subject_id):
            raise OasError(404, USER_NOT_FOUND)
        return OK

    @api.put("/users/{user_id}/settings")
    async def settings(
        user_id: int, body: UserSettingsIn, manager: CurrentManager, oas: Oas
    ) -> dict[str, Any]:
        found = await own_user(oas, user_id=user_id, manager_id=manager.subject_id)
        updated = await oas.repo.update_user(
            user_id=user_id, manager_id=manager.subject_id, now=oas.now(), **config_values(found, body)
        )
        if updated is None:
            raise OasError(404, USER_NOT_FOUND)
        return {"data": user_detail(updated)}

    @api.get("/users/{user_id}/tasks")
    async def tasks(user_id: int, manager: CurrentManager, oas: Oas) -> dict[str, Any]:
        found = await own_user(oas, user_id=user_id, manager_id=manager.subject_id)
        return {"data": tasks_view(found)}

    @api.put("/users/{user_id}/tasks")
    async def put_tasks(user_id: int, body: TasksIn, manager: CurrentManager, oas: Oas) -> dict[str, Any]:
        return {"data": await write_tasks(oas, user_id=user_id, body=body, manager_id=manager.subject_id)}

    @api.get("/users/{user_id}/assets")
    async def assets(user_id: int, manager: CurrentManager, oas: Oas) -> dict[str, Any]:
        found = await own_user(oas, user_id=user_id, manager_id=manager.subject_id)
        return {
            "data": {
                "user_id": found.id,
                "assets": found.assets,
                "explore_progress": found.explore_progress,
                "archive_status": found.archive_status,
                "updated_at": fmt_time(found.updated_at),
            }
        }

    return api
