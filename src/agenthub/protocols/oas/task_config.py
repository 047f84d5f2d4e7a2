"""Per-user task settings: merged over the templates, limited to the user's pool, validated on write.

Stored on the user row as `{task: {enabled, next_time, fail_delay, next_time_rule, priority?, payload?}}`
with `next_time` as an RFC 3339 UTC string (or null); `task_config_version` grows on every write.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agenthub.protocols.oas.schedule_rules import RULES
from agenthub.protocols.oas.templates import POOLS, TEMPLATES
from agenthub.protocols.oas.wire import as_utc, fmt_time


class TaskConfigError(ValueError):
    """A write the API refuses with 400; the message is the response's detail."""


class TaskSettingsIn(BaseModel):
    """One task's fields as a client writes them; every field is optional (a partial update)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    next_time: datetime | None = None
    fail_delay: int | None = Field(default=None, ge=1, le=7 * 24 * 60)
    next_time_rule: str | None = None
    priority: int | None = Field(default=None, ge=0, le=1000)
    payload: dict[str, Any] | None = None


def defaults(task: str) -> dict[str, Any]:
    template = TEMPLATES[task]
    return {
        "enabled": template.enabled,
        "next_time": None,
        "fail_delay": template.fail_delay,
        "next_time_rule": template.next_time_rule,
        "priority": template.priority,
    }


def merged(user_type: str, stored: dict[str, Any]) -> dict[str, Any]:
    """Every task of the user's pool: the template's defaults under what the user has set."""
    result: dict[str, Any] = {}
    for task in POOLS.get(user_type, ()):
        own = stored.get(task)
        result[task] = {**defaults(task), **(own if isinstance(own, dict) else {})}
    return result


def parse_next_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def apply_update(user_type: str, stored: dict[str, Any], update: Any, *, now: datetime) -> dict[str, Any]:
    """The stored config after a (partial) write; raises TaskConfigError for anything the API refuses.

    Writing `next_time: null` means "due now" and is stored as `now` (except for on_demand tasks, where it
    means "not scheduled"), so every due moment has a distinct time: the scheduler's slot."""
    if not isinstance(update, dict) or not update:
        raise TaskConfigError("task_config 不能为空")
    pool = POOLS.get(user_type, ())
    result = {name: dict(value) for name, value in stored.items() if isinstance(value, dict)}
    for task, fields in update.items():
        if task not in TEMPLATES:
            raise TaskConfigError(f"不支持的任务类型: {task}")
        if task not in pool:
            raise TaskConfigError(f"任务 {task} 不在 {user_type} 用户的任务池中")
        result[task] = {**result.get(task, {}), **_validated(task, fields)}
        rule = result[task].get("next_time_rule", TEMPLATES[task].next_time_rule)
        if "next_time" in result[task] and result[task]["next_time"] is None and rule != "on_demand":
            result[task]["next_time"] = fmt_time(now)
    return result


def _validated(task: str, fields: Any) -> dict[str, Any]:
    try:
        parsed = TaskSettingsIn.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise TaskConfigError(f"任务 {task} 的配置无效: {where} {first.get('msg', '')}".strip()) from exc
    if parsed.next_time_rule is not None and parsed.next_time_rule not in RULES:
        raise TaskConfigError(f"无效的 next_time_rule: {parsed.next_time_rule}")
    values = parsed.model_dump(exclude_unset=True)
    if "next_time" in values:
        values["next_time"] = fmt_time(as_utc(parsed.next_time))
    for required in ("enabled", "fail_delay", "next_time_rule"):
        if required in values and values[required] is None:
            raise TaskConfigError(f"任务 {task} 的 {required} 不能为空")
    return values
