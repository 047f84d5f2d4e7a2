"""The manager's users: overview, one user, lifecycle, delete, settings, tasks, assets."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from agenthub.core.jobs import JobQuery
from agenthub.protocols.oas.context import Oas
from agenthub.protocols.oas.errors import NOTHING_TO_UPDATE, OasError
from agenthub.protocols.oas.security import CurrentManager
from agenthub.protocols.oas.service import NODE_KIND, TASK_KIND
from agenthub.protocols.oas.user_configs import TasksIn, UserLifecycleIn, UserSettingsIn
from agenthub.protocols.oas.user_settings import config_values
from agenthub.protocols.oas.user_views import tasks_view, user_detail
from agenthub.protocols.oas.wire import as_utc, extended, fmt_time

OK = {"data": {"message": "ok"}}


router = APIRouter(prefix="/api/v1/manager")


@router.get("/overview")
async def overview(manager: CurrentManager, oas: Oas) -> dict[str, Any]:
    now = oas.now()
    engine = oas.runtime.engine
    nodes = await engine.nodes(NODE_KIND, owner_id=manager.subject_id)
    counts = await engine.count_by(JobQuery(kind=TASK_KIND, owner_id=manager.subject_id), "status")
    jobs = {status: n for (status,), n in counts.items()}
    return {
        "data": {
            "users": await oas.users.user_counts(manager_id=manager.subject_id, now=now),
            "jobs": jobs,
            "nodes": {
                "total": len(nodes),
                "online": sum(1 for n in nodes if engine.is_online(n)),
            },
        }
    }


@router.get("/users/{user_id}")
async def user(user_id: int, manager: CurrentManager, oas: Oas) -> dict[str, Any]:
    found = await oas.user_service.own(user_id=user_id, manager_id=manager.subject_id)
    return {"data": user_detail(found)}


@router.patch("/users/{user_id}/lifecycle")
async def lifecycle(user_id: int, body: UserLifecycleIn, manager: CurrentManager, oas: Oas) -> dict[str, Any]:
    found = await oas.user_service.own(user_id=user_id, manager_id=manager.subject_id)
    values: dict[str, Any] = body.model_dump(include={"status", "archive_status"}, exclude_none=True)
    expires_at = as_utc(body.expires_at) if body.expires_at is not None else found.expires_at
    if body.extend_days is not None:
        expires_at = extended(expires_at, oas.now(), body.extend_days)
    if body.expires_at is not None or body.extend_days is not None:
        values["expires_at"] = expires_at
    if not values:
        raise OasError(400, NOTHING_TO_UPDATE)
    updated = await oas.user_service.update(user_id=user_id, manager_id=manager.subject_id, **values)
    return {"data": user_detail(updated)}


@router.delete("/users/{user_id}")
async def delete_user(user_id: int, manager: CurrentManager, oas: Oas) -> dict[str, Any]:
    await oas.user_service.delete(user_id=user_id, manager_id=manager.subject_id)
    return OK


@router.put("/users/{user_id}/settings")
async def settings(user_id: int, body: UserSettingsIn, manager: CurrentManager, oas: Oas) -> dict[str, Any]:
    found = await oas.user_service.own(user_id=user_id, manager_id=manager.subject_id)
    updated = await oas.user_service.update(
        user_id=user_id, manager_id=manager.subject_id, **config_values(found, body)
    )
    return {"data": user_detail(updated)}


@router.get("/users/{user_id}/tasks")
async def tasks(user_id: int, manager: CurrentManager, oas: Oas) -> dict[str, Any]:
    found = await oas.user_service.own(user_id=user_id, manager_id=manager.subject_id)
    return {"data": tasks_view(found)}


@router.put("/users/{user_id}/tasks")
async def put_tasks(user_id: int, body: TasksIn, manager: CurrentManager, oas: Oas) -> dict[str, Any]:
    user = await oas.user_service.write_tasks(
        user_id=user_id,
        task_config=body.task_config,
        expected_version=body.version,
        manager_id=manager.subject_id,
    )
    return {"data": tasks_view(user)}


@router.get("/users/{user_id}/assets")
async def assets(user_id: int, manager: CurrentManager, oas: Oas) -> dict[str, Any]:
    found = await oas.user_service.own(user_id=user_id, manager_id=manager.subject_id)
    return {
        "data": {
            "user_id": found.id,
            "assets": found.assets,
            "explore_progress": found.explore_progress,
            "archive_status": found.archive_status,
            "updated_at": fmt_time(found.updated_at),
        }
    }
