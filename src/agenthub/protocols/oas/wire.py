"""How Oas values look on the wire: Go-style job objects and RFC 3339 UTC times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from agenthub.core.jobs import Job


def as_utc(value: datetime | None) -> datetime | None:
    """Times without a zone are taken as UTC, as Go clients send them."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00+08:00 has no UTC time
        raise DateOutOfRange("日期超出范围") from exc


class DateOutOfRange(ValueError):
    """A date the calendar cannot hold (past year 9999): the caller's input, a 400."""


def extended(expires_at: datetime | None, now: datetime, days: int) -> datetime:
    """An expiry moved `days` on from itself, or from now when it is unset or already past."""
    try:
        return max(expires_at or now, now) + timedelta(days=days)
    except OverflowError as exc:
        raise DateOutOfRange("日期超出范围") from exc


def fmt_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    value = value.astimezone(UTC)
    if value.microsecond:
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def job_to_wire(job: Job) -> dict[str, Any]:
    """A TaskJob exactly as seed 000 section 4.2 shows it."""
    return {
        "ID": job.id,
        "ManagerID": job.owner_id,
        "UserID": job.subject_id,
        "TaskType": job.type,
        "Payload": job.payload,
        "Priority": job.priority,
        "ScheduledAt": fmt_time(job.scheduled_at),
        "Status": job.status.value,
        "LeasedByNode": job.leased_by or "",
        "LeaseUntil": fmt_time(job.lease_until),
        "Attempts": job.attempts,
        "MaxAttempts": job.max_attempts,
        "CreatedAt": fmt_time(job.created_at),
        "UpdatedAt": fmt_time(job.updated_at),
    }


def job_to_operator_wire(job: Job) -> dict[str, Any]:
    """The agent's view plus what an operator needs to see why a job ended as it did."""
    return {
        **job_to_wire(job),
        "Result": job.result,
        "ErrorCode": job.error_code or "",
        "Message": job.message or "",
        "StartedAt": fmt_time(job.started_at),
        "FinishedAt": fmt_time(job.finished_at),
    }
