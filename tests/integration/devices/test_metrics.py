"""Devices over real Socket.IO: the `new_task` push is timed, the device counts as an online agent, the
dispatch request is in the HTTP histogram, and the task's transitions are counted."""

from __future__ import annotations

import httpx

from agenthub.server.runtime import Runtime
from tests.integration.devices.conftest import DeviceFactory, dispatch, eventually
from tests.integration.observability.support import scrape, value


async def test_devices_round_in_metrics(
    device: DeviceFactory, http: httpx.AsyncClient, runtime: Runtime
) -> None:
    dev = await device()
    task_id = (await dispatch(http))["task_id"]
    assert (await dev.next("new_task"))["task_id"] == task_id
    await dev.result(task_id)

    async def done() -> bool:
        m = await scrape(runtime)
        return value(m, "agenthub_jobs", kind="devices.task", status="success") == 1 and (
            value(m, "agenthub_push_latency_seconds_count", protocol="devices") == 1
        )

    await eventually(done)
    m = await scrape(runtime)
    assert value(m, "agenthub_agents", kind="devices", state="online") == 1
    assert value(m, "agenthub_agents", kind="devices", state="offline") == 0
    for event in ("created", "leased", "success"):
        assert value(m, "agenthub_job_transitions_total", kind="devices.task", event=event) == 1
    count = "agenthub_http_request_duration_seconds_count"
    assert value(m, count, protocol="devices", method="POST", route="/api/dispatch-task", status="2xx") == 1
