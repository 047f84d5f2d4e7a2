"""Request bodies of the Oas API, as seed 000 writes them (and upstream-facts where the seed is silent)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool

NodeId = Field(min_length=3, max_length=128)
MAX_LEASE_SECONDS = 366 * 24 * 3600  # a datetime must hold now + lease; longer asks get a year


def lease_or(default: int) -> AfterValidator:
    """`lease_seconds` as the original takes it: any positive value; zero or negative means the default.
    Only what no date can hold is capped (at a year), so no number is refused."""

    def normalize(value: int) -> int:
        return default if value <= 0 else min(value, MAX_LEASE_SECONDS)

    return AfterValidator(normalize)


TaskLease = Annotated[int, lease_or(90)]


def without_nul(value: Any) -> Any:
    """Free text (messages, reported results) is kept with each NUL replaced by U+FFFD, on every database
    alike: PostgreSQL cannot store NUL, and refusing would lose a whole report or log batch over one byte.
    Identifiers are not cleaned: a NUL there is refused with 400 at the storage boundary."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    return value


FreeText = Annotated[str, AfterValidator(without_nul)]
FreeJson = Annotated[dict[str, Any], AfterValidator(without_nul)]


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
    lease_seconds: TaskLease = 90


class LeaseIn(_Body):
    """start and heartbeat."""

    node_id: str = NodeId
    lease_seconds: TaskLease = 90
    message: FreeText | None = Field(default=None, max_length=4096)


class CompleteIn(_Body):
    node_id: str = NodeId
    message: FreeText | None = Field(default=None, max_length=4096)
    result: FreeJson | None = None


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
    message: FreeText = Field(max_length=8192)
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
