"""The sparklines' figures: jobs finished per protocol (from the engine's announcements) and queue depth."""

from __future__ import annotations

import asyncio

import httpx

from agenthub.console.spec import SPEC as CONSOLE
from agenthub.core.jobs import JobFilter, LeaseRef
from agenthub.server.runtime import Runtime
from tests.integration.console.conftest import LEASE, oas_job


async def test_throughput_and_queue_depth_per_protocol(runtime: Runtime, operator: httpx.AsyncClient) -> None:
    console = CONSOLE.state_of(runtime)
    done = await oas_job(runtime)
    await oas_job(runtime)
    await oas_job(runtime)
    await runtime.engine.lease(JobFilter(kind="oas.task"), node_id="PC-1", limit=1, lease_for=LEASE)
    await runtime.engine.complete(done, LeaseRef("PC-1"))

    async with asyncio.timeout(10):  # the count comes through the bus, a moment after the commit
        while True:
            await console.sample()
            oas = (await operator.get("/api/stats")).json()["protocols"]["oas"]
            if sum(oas["throughput"]) == 1:
                break
            await asyncio.sleep(0.02)
    assert oas["queue"][-1] == 2
    devices = (await operator.get("/api/stats")).json()["protocols"]["devices"]
    assert sum(devices["throughput"]) == 0 and devices["queue"][-1] == 0
