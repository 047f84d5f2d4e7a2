"""What manager and user routes share: a user's full view, and reading and writing a user's tasks."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from agenthub.protocols.oas.context import OasContext
from agenthub.protocols.oas.errors import USER_NOT_FOUND, OasError
from agenthub.protocols.oas.notify import NotifyConfigError, validated_notify_config
from agenthub.protocols.oas.ops_store import VersionMismatch
from agenthub.protocols.oas.records import User
from agenthub.protocols.oas.task_config import TaskConfigError, apply_update, merged
from agenthub.protocols.oas.user_configs import (
    LineupSlot,
    NotifyConfigIn,
    RestConfigIn,
    TasksIn,
    lineup_field_check,
    lineup_to_wire,
)


def user_detail(user: User) -> dict[str, Any]:
    return {
        **user.to_wire(),
        "rest_config": user.rest_config,
        "lineup_config": user.lineup_config,
        "shikigami_config": user.shikigami_config,
        "explore_progress": user.explore_progress,
        "notify_config": user.notify_config,
        "task_config_version": user.task_config_version,
    }


def tasks_view(user: User) -> dict[str, Any]:
    return {
        "user_id": user.id,
        "user_type": user.user_type,
        "task_config": merged(user.user_type, user.task_config),
        "version": user.task_config_version,
    }


async def write_tasks(
    oas: OasContext, *, user_id: int, body: TasksIn, manager_id: int | None = None
) -> dict[str, Any]:
    def change(user: User) -> dict[str, Any]:
        return apply_update(user.user_type, user.task_config, body.task_config, now=oas.now())

    try:
        user = await oas.ops.change_task_config(
            user_id=user_id,
            change=change,
            now=oas.now(),
            manager_id=manager_id,
            expected_version=body.version,
        )
    except TaskConfigError as exc:
        raise OasError(400, str(exc)) from exc
    except VersionMismatch as exc:
        raise OasError(409, f"任务配置已被修改，当前版本 {exc.current}") from exc
    if user is None:
        raise OasError(404, USER_NOT_FOUND)
    return tasks_view(user)


async def own_user(oas: OasContext, *, user_id: int, manager_id: int | None = None) -> User:
    user = await oas.repo.user(user_id=user_id, manager_id=manager_id)
    if user is None:
        raise OasError(404, USER_NOT_FOUND)
    return user


def config_values(user: User, body: BaseModel) -> dict[str, Any]:
    """The user columns a settings or profile write changes; raises OasError(400) for invalid configs."""
    given = body.model_fields_set
    values: dict[str, Any] = {}
    for name in ("username", "server", "shikigami_config", "explore_progress"):
        if name in given and getattr(body, name) is not None:
            values[name] = getattr(body, name)
    rest = getattr(body, "rest_config", None)
    if "rest_config" in given and isinstance(rest, RestConfigIn):
        values["rest_config"] = rest.model_dump()
    lineup = getattr(body, "lineup_config", None)
    if "lineup_config" in given and lineup is not None:
        values["lineup_config"] = checked_lineup(user, lineup)
    notify = getattr(body, "notify_config", None)
    if "notify_config" in given and isinstance(notify, NotifyConfigIn):
        values["notify_config"] = checked_notify(user, notify)
    if not values:
        raise OasError(400, "没有可更新的字段")
    return values


def checked_lineup(user: User, lineup: dict[str, LineupSlot]) -> dict[str, Any]:
    problem = lineup_field_check(lineup)
    if problem:
        raise OasError(400, problem)
    return {**user.lineup_config, **lineup_to_wire(lineup)}


def checked_notify(user: User, notify: NotifyConfigIn) -> dict[str, Any]:
    try:
        return validated_notify_config(user.notify_config, notify.model_dump())
    except NotifyConfigError as exc:
        raise OasError(400, str(exc)) from exc
