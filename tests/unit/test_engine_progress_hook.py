"""Engine.progress takes an optional hook, run in the change's transaction like start's and complete's."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from agenthub.core.jobs import Change, JobFilter, LeaseRef, NewJob
from agenthub.server.runtime import Runtime


async def test_progress_runs_its_hook_in_the_transaction(runtime: Runtime) -> None:
    job = await runtime.engine.submit(NewJob(kind="unit.hook", type="t", target_node="n1"))
    assert job is not None
    await runtime.engine.lease(
        JobFilter(kind="unit.hook", node_id="n1"), node_id="n1", limit=1, lease_for=timedelta(60)
    )
    seen: list[tuple[Any, int | None]] = []

    async def hook(conn: Any, change: Change) -> None:
        seen.append((conn, change.job.progress))

    change = await runtime.engine.progress(job.id, LeaseRef("n1"), percent=40, hook=hook)
    assert change.job.progress == 40
    assert len(seen) == 1 and seen[0][0] is not None and seen[0][1] == 40
    # without a hook it behaves as before
    assert (await runtime.engine.progress(job.id, LeaseRef("n1"), percent=50)).job.progress == 50
