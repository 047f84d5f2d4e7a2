"""Request bodies of the Oas API, as seed 000 writes them (and upstream-facts where the seed is silent)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

NodeId = Field(min_length=3, max_length=128)
LeaseSeconds = Field(default=90, ge=5, le=3600)


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class AgentLoginIn(_Body):
    username: str = Field(min_length=3, max_length=64)
    password: str = Field(min_length=6, max_length=128)
    node_id: str = NodeId
    version: str | None = Field(default=None, max_length=64)


class PollJobsIn(_Body):
    node_id: str = NodeId
    limit: int = Field(default=10, ge=1, le=1000)
    lease_seconds: int = LeaseSeconds


class LeaseIn(_Body):
    """start and heartbeat."""

    node_id: str = NodeId
    lease_seconds: int = LeaseSeconds
    message: str | None = Field(default=None, max_length=4096)


class CompleteIn(_Body):
    node_id: str = NodeId
    message: str | None = Field(default=None, max_length=4096)
    result: dict[str, Any] | None = None


class FailIn(CompleteIn):
    error_code: str | None = Field(default=None, max_length=64)


class GameProfileIn(_Body):
    archive_status: str | None = Field(default=None, max_length=32)
    server: str | None = Field(default=None, max_length=64)
    username: str | None = Field(default=None, max_length=64)


class ExploreProgressIn(_Body):
    progress: dict[str, StrictBool]


class LogIn(_Body):
    type: str = Field(default="", max_length=64)
    level: str = Field(default="INFO", max_length=16)
    message: str = Field(max_length=8192)
    ts: datetime | None = None


class LogsIn(_Body):
    logs: list[LogIn]


class LoginIn(_Body):
    username: str = Field(min_length=3, max_length=64)
    password: str = Field(min_length=6, max_length=128)


class ManagerCreateIn(LoginIn):
    alias: str = Field(default="", max_length=128)
    expires_at: datetime | None = None


class ManagerLifecycleIn(_Body):
    expires_at: datetime | None = None
    extend_days: int | None = Field(default=None, ge=1, le=3650)


class UserQuickCreateIn(_Body):
    user_type: Literal["daily", "duiyi", "shuaka"] = "daily"
    login_id: str | None = Field(default=None, min_length=1, max_length=64)
    username: str = Field(default="", max_length=64)
    server: str = Field(default="", max_length=64)
    duration_days: int = Field(default=30, ge=1, le=3650)


class JobCreateIn(_Body):
    user_id: int
    task_type: str
    payload: dict[str, Any] | None = None
    priority: int | None = Field(default=None, ge=0, le=1000)
    scheduled_at: datetime | None = None
    max_attempts: int = Field(default=3, ge=1, le=100)


class UserLoginIn(_Body):
    account_no: str = Field(min_length=1, max_length=64)
    device_info: dict[str, Any] | str | None = None
