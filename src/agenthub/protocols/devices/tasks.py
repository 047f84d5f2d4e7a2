"""Task types, their data, their timeouts and the seed's status names: pure, so unit-tested alone."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agenthub.core.jobs import JobStatus
from agenthub.protocols.devices.settings import DevicesSettings

TASK_KIND = "devices.task"

# The seed's task states, from the engine's.
SEED_STATUS = {
    JobStatus.PENDING: "pending",
    JobStatus.LEASED: "dispatched",
    JobStatus.RUNNING: "running",
    JobStatus.SUCCESS: "completed",
    JobStatus.FAILED: "failed",
    JobStatus.EXPIRED: "failed",
    JobStatus.CANCELLED: "cancelled",
}
# A task a device holds: it counts against the device's limit and goes back to the queue if the device goes.
HELD = (JobStatus.LEASED, JobStatus.RUNNING)
ACTIVE = (JobStatus.PENDING, *HELD)
ENGINE_STATUSES = {
    "pending": (JobStatus.PENDING,),
    "dispatched": (JobStatus.LEASED,),
    "running": (JobStatus.RUNNING,),
    "completed": (JobStatus.SUCCESS,),
    "failed": (JobStatus.FAILED, JobStatus.EXPIRED),
    "cancelled": (JobStatus.CANCELLED,),
}


class _Data(BaseModel):
    # Extra keys pass through to the device untouched: the seed lists the fields a device reads, not all.
    model_config = ConfigDict(extra="allow", strict=False)


class DelistData(_Data):
    product_ids: list[str] = Field(min_length=1, max_length=10_000)
    batch_size: int = Field(default=10, ge=1, le=1000)
    delay_between_items: float = Field(default=1.0, ge=0, le=3600)
    retry_failed: bool = True

    @field_validator("product_ids", mode="before")
    @classmethod
    def _ids_as_text(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value]
        return value


class CollectData(_Data):
    target_url: str = Field(min_length=1, max_length=4096, pattern=r"^https?://\S+$")
    max_items: int = Field(default=50, ge=1, le=100_000)
    scroll_delay: float = Field(default=2.0, ge=0, le=3600)
    extract_images: bool = True
    extract_details: bool = True


class ProductData(_Data):
    title: str = Field(min_length=1, max_length=1000)
    price: float = Field(ge=0)
    description: str = ""
    images: list[str] = Field(default_factory=list, max_length=100)


class UploadData(_Data):
    product_data: ProductData
    auto_publish: bool = True
    schedule_time: datetime | None = None


DATA_MODELS: dict[str, type[_Data]] = {"DELIST": DelistData, "COLLECT": CollectData, "UPLOAD": UploadData}
TASK_TYPES = tuple(DATA_MODELS)


class TaskDataError(ValueError):
    """The task type is unknown or its data does not match the type."""

    def __init__(self, message: str, error_code: str) -> None:
        super().__init__(message)
        self.message = message
        self.error_code = error_code


def validate_task(task_type: Any, data: Any) -> dict[str, Any]:
    """The task's data with defaults filled in and the seed's `action`; raises TaskDataError."""
    if not isinstance(task_type, str) or task_type not in DATA_MODELS:
        raise TaskDataError(
            f"不支持的任务类型: {task_type}（可选: {', '.join(TASK_TYPES)}）", "INVALID_TASK_TYPE"
        )
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise TaskDataError("任务数据必须是 JSON 对象", "INVALID_TASK_DATA")
    problem = json_problem(data)
    if problem is not None:
        raise TaskDataError("任务数据无效: " + problem, "INVALID_TASK_DATA")
    try:
        model = DATA_MODELS[task_type].model_validate(dict(data))
    except ValidationError as exc:
        raise TaskDataError("任务数据无效: " + describe(exc), "INVALID_TASK_DATA") from exc
    validated = model.model_dump(mode="json")
    validated.setdefault("action", task_type.lower())
    return validated


def describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        location = ".".join(str(p) for p in error.get("loc", ())) or "data"
        parts.append(f"{location}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def timeout_for(task_type: str, settings: DevicesSettings) -> int:
    if task_type == "DELIST":
        return settings.task_timeout_seconds
    return settings.long_task_timeout_seconds


def seed_device_status(*, online: bool, task_count: int, capacity: int) -> str:
    if not online:
        return "offline"
    return "busy" if task_count >= capacity else "online"


MAX_JSON_DEPTH = 32


def json_problem(value: Any, *, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Why a decoded JSON value cannot be stored as sent (None: it can): nesting deeper than `max_depth`, or
    a number that is not finite (NaN, Infinity, 1e400), which no database stores as JSON."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= max_depth:
                return f"嵌套层数超过 {max_depth}"
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
        elif isinstance(item, float) and not math.isfinite(item):
            return "数值必须是有限数（不接受 NaN 或 Infinity）"
    return None
