"""Checking a settings or profile write: which user columns it changes, each validated. Pure: raises
`InvalidSettings` (a 400 at the edge) and writes nothing."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from agenthub.protocols.oas.errors import NOTHING_TO_UPDATE, InvalidSettings
from agenthub.protocols.oas.notify import NotifyConfigError, validated_notify_config
from agenthub.protocols.oas.records import User
from agenthub.protocols.oas.user_configs import (
    LineupSlot,
    NotifyConfigIn,
    RestConfigIn,
    lineup_field_check,
    lineup_to_wire,
)


def config_values(user: User, body: BaseModel) -> dict[str, Any]:
    """The user columns a settings or profile write changes."""
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
        raise InvalidSettings(NOTHING_TO_UPDATE)
    return values


def checked_lineup(user: User, lineup: dict[str, LineupSlot]) -> dict[str, Any]:
    problem = lineup_field_check(lineup)
    if problem:
        raise InvalidSettings(problem)
    return {**user.lineup_config, **lineup_to_wire(lineup)}


def checked_notify(user: User, notify: NotifyConfigIn) -> dict[str, Any]:
    try:
        return validated_notify_config(user.notify_config, notify.model_dump())
    except NotifyConfigError as exc:
        raise InvalidSettings(str(exc)) from exc
