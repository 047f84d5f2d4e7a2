"""What the Oas server hands an agent, as typed values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


@dataclass(frozen=True, slots=True)
class AgentJob:
    """A leased TaskJob (seed 000 section 4.2)."""

    id: int
    manager_id: int
    user_id: int
    task_type: str
    payload: dict[str, Any]
    priority: int
    status: str
    attempts: int
    max_attempts: int
    lease_until: datetime | None
    scheduled_at: datetime | None

    @classmethod
    def from_wire(cls, job: dict[str, Any]) -> AgentJob:
        return cls(
            id=job["ID"],
            manager_id=job["ManagerID"],
            user_id=job["UserID"],
            task_type=job["TaskType"],
            payload=job.get("Payload") or {},
            priority=job.get("Priority", 0),
            status=job["Status"],
            attempts=job.get("Attempts", 0),
            max_attempts=job.get("MaxAttempts", 0),
            lease_until=parse_time(job.get("LeaseUntil")),
            scheduled_at=parse_time(job.get("ScheduledAt")),
        )


@dataclass(frozen=True, slots=True)
class ScanJob:
    """A leased scan job (seed 000 section 4.11)."""

    scan_job_id: int
    user_id: int
    login_id: str
    lease_until: datetime | None

    @classmethod
    def from_wire(cls, job: dict[str, Any]) -> ScanJob:
        return cls(
            scan_job_id=job["scan_job_id"],
            user_id=job["user_id"],
            login_id=job.get("login_id", ""),
            lease_until=parse_time(job.get("lease_until")),
        )


@dataclass(frozen=True, slots=True)
class ScanChoice:
    """The answer of GET /agent/scan/:id/choice (seed 000 section 4.14)."""

    has_choice: bool
    choice_type: str | None
    value: str | None
    cancelled: bool
    user_online: bool

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> ScanChoice:
        return cls(
            has_choice=bool(data.get("has_choice")),
            choice_type=data.get("choice_type"),
            value=data.get("value"),
            cancelled=bool(data.get("cancelled")),
            user_online=bool(data.get("user_online", True)),
        )
