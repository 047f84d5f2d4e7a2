"""ComfyUI rows as plain records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Agent:
    agent_id: str
    base_url: str
    allowed: bool
    created_at: datetime
    updated_at: datetime
    status: str | None = None
    agent_version: str | None = None
    comfyui_version: str | None = None
    metrics: dict[str, Any] | None = None  # of the latest heartbeat; when it came is the engine's to say


@dataclass(frozen=True, slots=True)
class Manifest:
    id: int
    name: str
    role: str
    version: str
    content: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TaskEvent:
    id: int
    job_id: int
    task_id: str
    level: str
    message: str
    payload: dict[str, Any] | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    agent_id: str
    type: str
    message: str
    payload: dict[str, Any] | None
    created_at: datetime
