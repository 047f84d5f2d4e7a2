"""How a user looks to the manager and to the user: the full detail, and the tasks with their templates."""

from __future__ import annotations

from typing import Any

from agenthub.protocols.oas.records import User
from agenthub.protocols.oas.task_config import merged


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
