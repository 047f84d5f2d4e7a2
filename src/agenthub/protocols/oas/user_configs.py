"""The per-user configs an operator or user writes, as the original shapes them: rest, lineup, notify."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

LINEUP_TASKS = ("逢魔", "地鬼", "探索", "结界突破", "道馆", "秘闻", "御魂")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RestConfigIn(_Strict):
    enabled: bool = False
    mode: Literal["random", "custom"] = "random"
    rest_start: str = Field(default="02:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    rest_duration: int = Field(default=3, ge=0, le=24)


class LineupSlot(_Strict):
    group: int = Field(ge=0, le=7)
    position: int = Field(ge=0, le=7)


def lineup_field_check(lineup: dict[str, LineupSlot]) -> str | None:
    unknown = sorted(set(lineup) - set(LINEUP_TASKS))
    return f"未知的阵容任务: {', '.join(unknown)}" if unknown else None


def lineup_to_wire(lineup: dict[str, LineupSlot]) -> dict[str, Any]:
    return {name: slot.model_dump() for name, slot in lineup.items()}


class NotifyConfigIn(_Strict):
    wechat_enabled: bool | None = None
    wechat_miao_code: str | None = Field(default=None, max_length=128)


class UserSettingsIn(_Strict):
    """What a manager may set on a user besides tasks and lifecycle."""

    username: str | None = Field(default=None, max_length=64)
    server: str | None = Field(default=None, max_length=64)
    rest_config: RestConfigIn | None = None
    lineup_config: dict[str, LineupSlot] | None = None
    shikigami_config: dict[str, Any] | None = None
    explore_progress: dict[str, bool] | None = None
    notify_config: NotifyConfigIn | None = None


class ProfileIn(_Strict):
    """What a user may change on their own profile."""

    username: str | None = Field(default=None, max_length=64)
    server: str | None = Field(default=None, max_length=64)
    rest_config: RestConfigIn | None = None
    shikigami_config: dict[str, Any] | None = None
    notify_config: NotifyConfigIn | None = None  # the original frontend saves notifications here


class UserLifecycleIn(_Strict):
    expires_at: datetime | None = None
    extend_days: int | None = Field(default=None, ge=1, le=3650)
    status: Literal["active", "expired", "disabled"] | None = None
    archive_status: str | None = Field(default=None, max_length=32)


class TasksIn(BaseModel):
    """PUT .../tasks: `{"task_config": {task: {...}}, "version"?: n}`; version, when given, must match."""

    model_config = ConfigDict(extra="ignore")

    task_config: dict[str, Any]
    version: int | None = None


class DuiyiAnswersIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    answers: dict[str, str]
    date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")


class PasswordIn(_Strict):
    # `new_password` is what the original frontend sends.
    password: str = Field(
        min_length=6, max_length=128, validation_alias=AliasChoices("password", "new_password")
    )


class LineupIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    lineup_config: dict[str, LineupSlot]
