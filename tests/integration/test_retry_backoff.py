"""Retries wait an exponential backoff with jitter, per kind and configurable, and the job's events say when
the next attempt is due: a failed job is not leased again at once (issue "Hardening", Retries)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from agenthub.core.clock import ManualClock
from agenthub.core.jobs import JobFilter, JobStatus, LeaseRef, NewJob
from agenthub.server.runtime import Runtime
from agenthub.server.settings import BackoffSettings, Settings
from agenthub.server.startup import open_runtime

KIND = "test.retry"
LEASE = timedelta(seconds=60)


@pytest.fixture
async def backoff_runtime(settings: Settings, clock: ManualClock) -> AsyncIterator[Runtime]:
    settings.engine = settings.engine.model_copy(
        update={
            "retry_base_seconds": 10,
            "retry_factor": 3,
            "retry_max_seconds": 60,
            "retry_jitter": 0.0,
            "retry_backoff": {"test.slow": BackoffSettings(base_seconds=100, max_seconds=1000, jitter=0)},
        }
    )
    async with open_runtime(settings, clock=clock) as runtime:
        yield runtime


async def lease_one(runtime: Runtime, kind: str = KIND) -> list[int]:
    jobs = await runtime.engine.lease(JobFilter(kind=kind), node_id="n1", limit=1, lease_for=LEASE)
    return [job.id for job in jobs]


async def test_a_failed_job_waits_its_backoff_which_grows(
    backoff_runtime: Runtime, clock: ManualClock
) -> None:
    engine = backoff_runtime.engine
    job = await engine.submit(NewJob(kind=KIND, type="t", max_attempts=5))
    assert job is not None
    waits = []
    for _ in range(3):
        [job_id] = await lease_one(backoff_runtime)
        failed = await engine.fail(job_id, LeaseRef("n1"), error_code="BOOM")
        assert failed.job.status is JobStatus.PENDING
        waits.append((failed.job.scheduled_at - clock.now()).total_seconds())
        assert await lease_one(backoff_runtime) == []  # not at once
        clock.advance(waits[-1] - 1)
        assert await lease_one(backoff_runtime) == []  # nor a second early
        clock.advance(1)
    assert waits == [10, 30, 60]  # 10 * 3^n, capped at 60
    events = [e for e in await engine.events(job.id) if e.type == "fail"]
    assert [e.data["retry_in_seconds"] for e in events if e.data] == [10, 30, 60]


async def test_a_lost_lease_is_requeued_after_the_backoff(
    backoff_runtime: Runtime, clock: ManualClock
) -> None:
    engine = backoff_runtime.engine
    job = await engine.submit(NewJob(kind=KIND, type="t"))
    assert job is not None
    await lease_one(backoff_runtime)
    clock.advance(LEASE.total_seconds() + 1)
    [change] = await engine.expire_due()
    assert change.job.status is JobStatus.PENDING
    assert change.event is not None and change.event.data is not None
    assert change.event.data["retry_at"] == (clock.now() + timedelta(seconds=10)).isoformat()
    assert await lease_one(backoff_runtime) == []
    clock.advance(10)
    assert await lease_one(backoff_runtime) == [job.id]


async def test_a_kind_has_its_own_backoff_from_the_settings(
    backoff_runtime: Runtime, clock: ManualClock
) -> None:
    engine = backoff_runtime.engine
    job = await engine.submit(NewJob(kind="test.slow", type="t"))
    assert job is not None
    await lease_one(backoff_runtime, "test.slow")
    failed = await engine.fail(job.id, LeaseRef("n1"))
    assert failed.job.scheduled_at == clock.now() + timedelta(seconds=100)


def test_the_backoff_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from agenthub.server.settings import EngineSettings

    monkeypatch.setenv("AGENTHUB_RETRY_BASE_SECONDS", "5")
    monkeypatch.setenv("AGENTHUB_RETRY_BACKOFF", '{"oas.task": {"base_seconds": 30, "jitter": 0.5}}')
    settings = EngineSettings()
    assert settings.retry_base_seconds == 5
    assert settings.retry_backoff["oas.task"] == BackoffSettings(base_seconds=30, jitter=0.5)
