"""Engine.lease_one: leases exactly the named pending job, announces it, and refuses a job not pending."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agenthub.core.errors import InvalidTransition
from agenthub.core.jobs import JobStatus, NewJob
from agenthub.server.runtime import Runtime


async def test_lease_one_takes_the_named_job(runtime: Runtime) -> None:
    engine = runtime.engine
    older = await engine.submit(NewJob(kind="t.lease_one", type="x"))
    newer = await engine.submit(NewJob(kind="t.lease_one", type="x"))
    assert older is not None and newer is not None
    async with runtime.bus.subscribe("jobs.t.lease_one") as events:
        change = await engine.lease_one(newer.id, node_id="n1", lease_for=timedelta(seconds=30))
        _channel, message = await events.get(timeout=2) or ("", {})
    assert change.job.status is JobStatus.LEASED and change.job.leased_by == "n1"
    assert change.job.lease_until == runtime.clock.now() + timedelta(seconds=30)
    assert change.job.lease_epoch == 1
    assert message["event"] == "leased" and message["job_id"] == newer.id
    assert (await engine.get(older.id)).status is JobStatus.PENDING
    with pytest.raises(InvalidTransition):
        await engine.lease_one(newer.id, node_id="n2", lease_for=timedelta(seconds=30))
