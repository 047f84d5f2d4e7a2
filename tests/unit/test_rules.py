"""The engine's rules as pure functions: leasing, fencing, expiry, retries, idempotency. No I/O, no sleep."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from agenthub.core import rules
from agenthub.core.errors import InvalidTransition, LeaseMismatch
from agenthub.core.jobs import Backoff, Job, JobStatus, KindPolicy, LeaseRef

T0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
LEASE = timedelta(seconds=90)
POLICY = KindPolicy(non_retryable_errors=frozenset({"TASK_TYPE_INVALID"}))


def pending(**fields: object) -> Job:
    job = Job(
        id=1,
        kind="test",
        type="t",
        status=JobStatus.PENDING,
        payload={},
        priority=0,
        scheduled_at=T0,
        attempts=0,
        max_attempts=3,
        created_at=T0,
        updated_at=T0,
    )
    return replace(job, **fields)  # type: ignore[arg-type]


def leased(node: str = "a", now: datetime = T0, **fields: object) -> Job:
    return replace(rules.lease(pending(**fields), node_id=node, now=now, lease_for=LEASE).job)


def test_lease_sets_holder_deadline_and_bumps_epoch() -> None:
    change = rules.lease(pending(), node_id="a", now=T0, lease_for=LEASE)
    assert change.job.status is JobStatus.LEASED
    assert change.job.leased_by == "a"
    assert change.job.lease_epoch == 1
    assert change.job.lease_until == T0 + LEASE
    assert change.event is not None and change.event.type == "leased"


def test_only_pending_jobs_can_be_leased() -> None:
    with pytest.raises(InvalidTransition):
        rules.lease(leased(), node_id="b", now=T0, lease_for=LEASE)


def test_start_and_heartbeat_extend_the_lease() -> None:
    job = leased()
    started = rules.start(job, LeaseRef("a"), now=T0 + timedelta(seconds=30), lease_for=LEASE).job
    assert started.status is JobStatus.RUNNING
    assert started.lease_until == T0 + timedelta(seconds=120)
    beat = rules.heartbeat(started, LeaseRef("a"), now=T0 + timedelta(seconds=100), lease_for=LEASE).job
    assert beat.lease_until == T0 + timedelta(seconds=190)


@pytest.mark.parametrize("operation", ["start", "heartbeat", "complete", "fail", "progress"])
def test_writes_from_another_node_are_refused(operation: str) -> None:
    job = leased("a")
    with pytest.raises(LeaseMismatch):
        _write(operation, job, LeaseRef("b"), T0)


@pytest.mark.parametrize("operation", ["start", "heartbeat", "complete", "fail", "progress"])
def test_writes_after_the_lease_ran_out_are_refused(operation: str) -> None:
    job = leased("a")
    with pytest.raises(LeaseMismatch):
        _write(operation, job, LeaseRef("a"), T0 + LEASE + timedelta(seconds=1))


def test_writes_from_an_older_epoch_of_the_same_node_are_refused() -> None:
    first = leased("a")
    requeued = rules.expire(first, now=T0 + LEASE + timedelta(seconds=1), policy=POLICY).job
    again = rules.lease(requeued, node_id="a", now=T0 + timedelta(seconds=200), lease_for=LEASE).job
    assert again.lease_epoch == 2
    with pytest.raises(LeaseMismatch):
        rules.complete(again, LeaseRef("a", epoch=1), now=T0 + timedelta(seconds=201))
    assert rules.complete(again, LeaseRef("a", epoch=2), now=T0 + timedelta(seconds=201)).job.status is (
        JobStatus.SUCCESS
    )


def test_complete_twice_by_the_holder_is_a_no_op() -> None:
    done = rules.complete(leased(), LeaseRef("a"), now=T0, result={"ok": True}).job
    again = rules.complete(done, LeaseRef("a"), now=T0 + timedelta(seconds=5), result={"other": 1})
    assert again.event is None
    assert again.job == done


def test_complete_after_complete_by_another_node_is_refused() -> None:
    done = rules.complete(leased(), LeaseRef("a"), now=T0).job
    with pytest.raises(LeaseMismatch):
        rules.complete(done, LeaseRef("b"), now=T0)


def test_fail_after_complete_is_a_conflict() -> None:
    done = rules.complete(leased(), LeaseRef("a"), now=T0).job
    with pytest.raises(InvalidTransition):
        rules.fail(done, LeaseRef("a"), now=T0, policy=POLICY)


def test_fail_requeues_until_max_attempts_then_fails() -> None:
    job = leased()
    for attempt in (1, 2):
        job = rules.fail(job, LeaseRef("a"), now=T0, policy=POLICY, error_code="LOCAL_BATCH_FAILED").job
        assert job.status is JobStatus.PENDING
        assert job.attempts == attempt
        assert job.lease_until is None
        job = rules.lease(job, node_id="a", now=T0, lease_for=LEASE).job
    job = rules.fail(job, LeaseRef("a"), now=T0, policy=POLICY, error_code="LOCAL_BATCH_FAILED").job
    assert job.status is JobStatus.FAILED
    assert job.attempts == 3
    assert job.finished_at == T0


def test_fail_twice_by_the_holder_is_a_no_op() -> None:
    once = rules.fail(leased(), LeaseRef("a"), now=T0, policy=POLICY, error_code="X")
    twice = rules.fail(once.job, LeaseRef("a"), now=T0, policy=POLICY, error_code="X")
    assert twice.event is None
    assert twice.job.attempts == 1


def test_non_retryable_errors_fail_at_once() -> None:
    job = rules.fail(leased(), LeaseRef("a"), now=T0, policy=POLICY, error_code="TASK_TYPE_INVALID").job
    assert job.status is JobStatus.FAILED
    assert job.attempts == 1


def test_retry_delay_postpones_the_next_attempt() -> None:
    policy = KindPolicy(retry_delay=timedelta(minutes=5))
    job = rules.fail(leased(), LeaseRef("a"), now=T0, policy=policy).job
    assert job.scheduled_at == T0 + timedelta(minutes=5)


BACKOFF = Backoff(base_seconds=2, factor=2, max_seconds=60, jitter=0.25)


def test_backoff_grows_exponentially_up_to_its_cap() -> None:
    middle = [BACKOFF.delay(attempt, spread=0.5).total_seconds() for attempt in range(1, 8)]
    assert middle == [2, 4, 8, 16, 32, 60, 60]


def test_backoff_jitter_spreads_within_its_share() -> None:
    assert BACKOFF.delay(3, spread=0.0) == timedelta(seconds=6)  # 8 - 25%
    assert BACKOFF.delay(3, spread=1.0) == timedelta(seconds=10)  # 8 + 25%


def test_failure_is_retried_after_the_backoff_and_the_event_says_when() -> None:
    policy = KindPolicy(backoff=BACKOFF)
    first = rules.fail(leased(), LeaseRef("a"), now=T0, policy=policy, spread=0.5)
    assert first.job.scheduled_at == T0 + timedelta(seconds=2)
    assert first.event is not None and first.event.data is not None
    assert first.event.data["retry_at"] == (T0 + timedelta(seconds=2)).isoformat()
    assert first.event.data["retry_in_seconds"] == 2
    second = rules.fail(leased(attempts=1), LeaseRef("a"), now=T0, policy=policy, spread=0.5)
    assert second.job.scheduled_at == T0 + timedelta(seconds=4)


def test_lost_lease_is_requeued_after_the_backoff_too() -> None:
    policy = KindPolicy(backoff=BACKOFF)
    later = T0 + LEASE + timedelta(seconds=1)
    change = rules.expire(leased(), now=later, policy=policy, spread=0.5)
    assert change.job.scheduled_at == later + timedelta(seconds=2)
    released = rules.release(leased(), LeaseRef("a"), now=T0, policy=policy, reason="gone", spread=0.5)
    assert released.job.scheduled_at == T0 + timedelta(seconds=2)
    assert released.event is not None and released.event.data is not None
    assert released.event.data["retry_in_seconds"] == 2


def test_the_fixed_retry_delay_is_a_floor_under_the_backoff() -> None:
    policy = KindPolicy(retry_delay=timedelta(seconds=30), backoff=BACKOFF)
    assert rules.fail(leased(), LeaseRef("a"), now=T0, policy=policy).job.scheduled_at == T0 + timedelta(
        seconds=30
    )


def test_expiry_leaves_a_live_lease_alone() -> None:
    job = leased()
    assert rules.expire(job, now=T0 + LEASE, policy=POLICY).event is None


def test_expired_lease_requeues_with_one_more_attempt() -> None:
    change = rules.expire(leased(), now=T0 + LEASE + timedelta(seconds=1), policy=POLICY)
    assert change.job.status is JobStatus.PENDING
    assert change.job.attempts == 1
    assert change.event is not None and change.event.type == "timeout_requeued"


def test_expired_lease_at_max_attempts_ends_in_the_kinds_exhausted_status() -> None:
    job = leased(attempts=2)
    assert rules.expire(job, now=T0 + timedelta(hours=1), policy=POLICY).job.status is JobStatus.FAILED
    scan_policy = KindPolicy(exhausted_status=JobStatus.EXPIRED)
    assert rules.expire(job, now=T0 + timedelta(hours=1), policy=scan_policy).job.status is JobStatus.EXPIRED


def test_deadline_ends_the_job_whatever_its_lease() -> None:
    job = leased(deadline=T0 + timedelta(minutes=15))
    assert rules.expire(job, now=T0 + timedelta(minutes=15), policy=POLICY).job.status is JobStatus.EXPIRED
    assert rules.expire(pending(deadline=T0), now=T0, policy=POLICY).job.status is JobStatus.EXPIRED


def test_lease_never_outlives_the_deadline() -> None:
    job = leased(deadline=T0 + timedelta(seconds=60))
    beat = rules.heartbeat(job, LeaseRef("a"), now=T0 + timedelta(seconds=30), lease_for=LEASE).job
    assert beat.lease_until == T0 + timedelta(seconds=60)


def test_release_requeues_and_counts_the_attempt() -> None:
    change = rules.release(leased(), LeaseRef("a"), now=T0, policy=POLICY, reason="disconnected")
    assert change.job.status is JobStatus.PENDING
    assert change.job.attempts == 1
    with pytest.raises(LeaseMismatch):
        rules.release(leased(), LeaseRef("b"), now=T0, policy=POLICY, reason="x")


def test_progress_moves_to_running_and_clamps() -> None:
    job = rules.progress(leased(), LeaseRef("a"), now=T0, percent=150, message="half").job
    assert job.status is JobStatus.RUNNING
    assert job.progress == 100


def test_cancel_ends_active_jobs_and_refuses_final_ones() -> None:
    cancelled = rules.cancel(leased(), now=T0, reason="user").job
    assert cancelled.status is JobStatus.CANCELLED
    assert rules.cancel(cancelled, now=T0).event is None
    done = rules.complete(leased(), LeaseRef("a"), now=T0).job
    with pytest.raises(InvalidTransition):
        rules.cancel(done, now=T0)


def _write(operation: str, job: Job, lease: LeaseRef, now: datetime) -> object:
    if operation == "start":
        return rules.start(job, lease, now=now, lease_for=LEASE)
    if operation == "heartbeat":
        return rules.heartbeat(job, lease, now=now, lease_for=LEASE)
    if operation == "complete":
        return rules.complete(job, lease, now=now)
    if operation == "fail":
        return rules.fail(job, lease, now=now, policy=POLICY)
    return rules.progress(job, lease, now=now, percent=10)
