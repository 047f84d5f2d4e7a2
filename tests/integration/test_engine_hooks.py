"""The engine's optional transaction hooks on submit and heartbeat: they commit with the change, and a hook
that raises undoes it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from agenthub.core.jobs import Change, JobFilter, JobQuery, LeaseRef, NewJob
from agenthub.server.runtime import Runtime


class Boom(Exception):
    pass


async def test_submit_and_heartbeat_hooks(runtime: Runtime) -> None:
    engine, seen = runtime.engine, []

    async def hook(_conn: Any, change: Change) -> None:
        seen.append((change.job.id, change.event.type if change.event else None))

    job = await engine.submit(NewJob(kind="t.hooks", type="x"), hook=hook)
    assert job is not None and seen == [(job.id, "created")]
    await engine.lease(JobFilter(kind="t.hooks"), node_id="n1", limit=1, lease_for=timedelta(seconds=30))
    await engine.heartbeat(job.id, LeaseRef("n1"), lease_for=timedelta(seconds=60), hook=hook)
    assert seen[-1] == (job.id, "heartbeat")

    async def failing(_conn: Any, _change: Change) -> None:
        raise Boom

    before = await engine.get(job.id)
    runtime.clock.advance(5)  # type: ignore[attr-defined]
    with pytest.raises(Boom):
        await engine.heartbeat(job.id, LeaseRef("n1"), lease_for=timedelta(seconds=600), hook=failing)
    assert (await engine.get(job.id)).lease_until == before.lease_until
    with pytest.raises(Boom):
        await engine.submit(NewJob(kind="t.hooks", type="y"), hook=failing)
    assert (await engine.find(JobQuery(kind="t.hooks")))[1] == 1
