"""The engine's rules, as pure functions from a job (and a request) to a Change.

Storage loads the job under a lock, applies one of these, and writes the new job and its event in the same
transaction. Nothing here touches I/O, so every rule is tested without a database.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from agenthub.core.errors import InvalidTransition, LeaseMismatch
from agenthub.core.jobs import Change, EventDraft, Job, JobStatus, KindPolicy, LeaseRef


def lease(job: Job, *, node_id: str, now: datetime, lease_for: timedelta) -> Change:
    if job.status is not JobStatus.PENDING:
        raise InvalidTransition(job.id, job.status, "lease")
    leased = replace(
        job,
        status=JobStatus.LEASED,
        leased_by=node_id,
        lease_epoch=job.lease_epoch + 1,
        lease_until=now + lease_for,
        updated_at=now,
    )
    return Change(leased, EventDraft("leased", node_id=node_id))


def holds_live_lease(job: Job, lease_ref: LeaseRef, now: datetime) -> bool:
    """True while the lease the caller names is the job's current one and has not run out."""
    return job.held_by(lease_ref) and job.lease_until is not None and job.lease_until >= now


def require_live_lease(job: Job, lease_ref: LeaseRef, now: datetime) -> None:
    if not holds_live_lease(job, lease_ref, now):
        raise LeaseMismatch(job.id, lease_ref.node_id)


def start(
    job: Job, lease_ref: LeaseRef, *, now: datetime, lease_for: timedelta, message: str | None = None
) -> Change:
    if job.status is JobStatus.RUNNING and job.held_by(lease_ref):
        return heartbeat(job, lease_ref, now=now, lease_for=lease_for, message=message, event="start")
    require_live_lease(job, lease_ref, now)
    started = replace(
        job,
        status=JobStatus.RUNNING,
        started_at=job.started_at or now,
        lease_until=_extended(job, now, lease_for),
        message=message if message is not None else job.message,
        updated_at=now,
    )
    return Change(started, EventDraft("start", node_id=lease_ref.node_id, message=message))


def heartbeat(
    job: Job,
    lease_ref: LeaseRef,
    *,
    now: datetime,
    lease_for: timedelta,
    message: str | None = None,
    event: str = "heartbeat",
) -> Change:
    require_live_lease(job, lease_ref, now)
    renewed = replace(job, lease_until=_extended(job, now, lease_for), updated_at=now)
    return Change(renewed, EventDraft(event, node_id=lease_ref.node_id, message=message))


def progress(
    job: Job, lease_ref: LeaseRef, *, now: datetime, percent: int, message: str | None = None
) -> Change:
    require_live_lease(job, lease_ref, now)
    moved = replace(
        job,
        status=JobStatus.RUNNING,
        started_at=job.started_at or now,
        progress=max(0, min(100, percent)),
        message=message if message is not None else job.message,
        updated_at=now,
    )
    return Change(
        moved,
        EventDraft("progress", node_id=lease_ref.node_id, message=message, data={"progress": moved.progress}),
    )


def complete(
    job: Job,
    lease_ref: LeaseRef,
    *,
    now: datetime,
    result: dict[str, Any] | None = None,
    message: str | None = None,
) -> Change:
    if job.status is JobStatus.SUCCESS and _was_last_held_by(job, lease_ref):
        return Change(job, None)
    _refuse_unless_held(job, lease_ref, now, "complete")
    done = replace(
        job,
        status=JobStatus.SUCCESS,
        lease_until=None,
        finished_at=now,
        progress=100 if job.progress is not None else None,
        result=result,
        message=message,
        error_code=None,
        updated_at=now,
    )
    return Change(done, EventDraft("success", node_id=lease_ref.node_id, message=message))


def fail(
    job: Job,
    lease_ref: LeaseRef,
    *,
    now: datetime,
    policy: KindPolicy,
    error_code: str | None = None,
    message: str | None = None,
    result: dict[str, Any] | None = None,
    retryable: bool = True,
    spread: float = 0.5,
) -> Change:
    if job.status in (JobStatus.FAILED, JobStatus.PENDING) and _was_last_held_by(job, lease_ref):
        return Change(job, None)
    _refuse_unless_held(job, lease_ref, now, "fail")
    attempts = job.attempts + 1
    retry = retryable and error_code not in policy.non_retryable_errors and attempts < job.max_attempts
    wait = policy.retry_wait(attempts, spread=spread)
    failed = replace(
        job,
        status=JobStatus.PENDING if retry else JobStatus.FAILED,
        attempts=attempts,
        lease_until=None,
        scheduled_at=now + wait if retry else job.scheduled_at,
        finished_at=None if retry else now,
        result=result,
        error_code=error_code,
        message=message,
        updated_at=now,
    )
    data: dict[str, Any] = {"retry": retry, "attempts": attempts}
    if retry:
        data.update(_retry_data(now, wait))
    return Change(
        failed,
        EventDraft("fail", node_id=lease_ref.node_id, message=message, error_code=error_code, data=data),
    )


def expire(
    job: Job, *, now: datetime, policy: KindPolicy, reason: str | None = None, spread: float = 0.5
) -> Change:
    """Applies the job's clocks: a passed deadline ends it; a lease that ran out returns it to the queue."""
    if job.status.is_final:
        return Change(job, None)
    if job.deadline is not None and job.deadline <= now:
        ended = replace(
            job,
            status=JobStatus.EXPIRED,
            lease_until=None,
            finished_at=now,
            updated_at=now,
            message=reason or job.message,
        )
        return Change(ended, EventDraft("expired", node_id=job.leased_by, message=reason))
    if not job.status.is_held or (reason is None and job.lease_until is not None and job.lease_until >= now):
        return Change(job, None)
    return _requeue_or_exhaust(job, now=now, policy=policy, reason=reason or "lease expired", spread=spread)


def release(
    job: Job, lease_ref: LeaseRef, *, now: datetime, policy: KindPolicy, reason: str, spread: float = 0.5
) -> Change:
    """The holder gave the job up (e.g. its connection dropped): counts as a lost attempt."""
    if not job.held_by(lease_ref):
        raise LeaseMismatch(job.id, lease_ref.node_id)
    return _requeue_or_exhaust(job, now=now, policy=policy, reason=reason, spread=spread)


def cancel(job: Job, *, now: datetime, reason: str | None = None) -> Change:
    if job.status is JobStatus.CANCELLED:
        return Change(job, None)
    if job.status.is_final:
        raise InvalidTransition(job.id, job.status, "cancel")
    cancelled = replace(
        job,
        status=JobStatus.CANCELLED,
        lease_until=None,
        finished_at=now,
        updated_at=now,
        message=reason or job.message,
    )
    return Change(cancelled, EventDraft("cancelled", node_id=job.leased_by, message=reason))


def _requeue_or_exhaust(job: Job, *, now: datetime, policy: KindPolicy, reason: str, spread: float) -> Change:
    attempts = job.attempts + 1
    if attempts >= job.max_attempts:
        ended = replace(
            job,
            status=policy.exhausted_status,
            attempts=attempts,
            lease_until=None,
            finished_at=now,
            updated_at=now,
            message=reason,
        )
        return Change(
            ended, EventDraft("timeout", node_id=job.leased_by, message=reason, data={"attempts": attempts})
        )
    wait = policy.retry_wait(attempts, spread=spread)
    requeued = replace(
        job,
        status=JobStatus.PENDING,
        attempts=attempts,
        lease_until=None,
        scheduled_at=now + wait,
        updated_at=now,
        message=reason,
    )
    data = {"attempts": attempts, **_retry_data(now, wait)}
    return Change(requeued, EventDraft("timeout_requeued", node_id=job.leased_by, message=reason, data=data))


def _retry_data(now: datetime, wait: timedelta) -> dict[str, Any]:
    return {"retry_at": (now + wait).isoformat(), "retry_in_seconds": round(wait.total_seconds(), 3)}


def _refuse_unless_held(job: Job, lease_ref: LeaseRef, now: datetime, operation: str) -> None:
    if job.status.is_final or job.status is JobStatus.PENDING:
        if job.leased_by != lease_ref.node_id:
            raise LeaseMismatch(job.id, lease_ref.node_id)
        raise InvalidTransition(job.id, job.status, operation)
    require_live_lease(job, lease_ref, now)


def _was_last_held_by(job: Job, lease_ref: LeaseRef) -> bool:
    if job.leased_by != lease_ref.node_id or job.lease_epoch == 0:
        return False
    return lease_ref.epoch is None or lease_ref.epoch == job.lease_epoch


def _extended(job: Job, now: datetime, lease_for: timedelta) -> datetime:
    until = now + lease_for
    if job.deadline is not None:
        until = min(until, job.deadline)
    return until


# -- operator actions (the console) --------------------------------------------------------------------

RETRYABLE_NOW = frozenset({JobStatus.FAILED, JobStatus.EXPIRED})


def cancel_by(job: Job, *, now: datetime, operator: str, reason: str | None = None) -> Change:
    """An operator's cancel: the engine's cancel, with who did it on the event."""
    change = cancel(job, now=now, reason=reason)
    if change.event is None:
        return change
    return Change(change.job, replace(change.event, data={"by": operator}))


def retry_now(job: Job, *, now: datetime, operator: str) -> Change:
    """Back to the queue at once: a failed (or expired) job gets one more attempt, a job waiting out a retry
    backoff or a schedule stops waiting. A passed deadline would end the job again at the next sweep, so
    it is lifted."""
    waiting = job.status is JobStatus.PENDING and job.scheduled_at > now
    if job.status not in RETRYABLE_NOW and not waiting:
        raise InvalidTransition(job.id, job.status, "retry now")
    revived = replace(
        job,
        status=JobStatus.PENDING,
        scheduled_at=now,
        max_attempts=max(job.max_attempts, job.attempts + 1),
        lease_until=None,
        finished_at=None,
        deadline=job.deadline if job.deadline is None or job.deadline > now else None,
        updated_at=now,
    )
    data = {"by": operator, "from": job.status.value}
    return Change(revived, EventDraft("retry_now", message=f"retried by {operator}", data=data))


def may_lease(node_disabled: bool) -> bool:
    """A node an operator disabled leases nothing (what it holds already runs to its end)."""
    return not node_disabled
