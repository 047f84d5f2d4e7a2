"""The HTTP histogram counts the requests a real client made to a protocol's port, by route template and
status class; a push to an agent lands in the push histogram. ComfyUI, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from agenthub.core.clock import ManualClock
from agenthub.server.runtime import Runtime
from agenthub.server.settings import Settings
from tests.conftest import make_settings
from tests.integration.comfyui.conftest import ComfyWorld, comfyui_settings
from tests.integration.observability.support import scrape, value
from tests.support.servers import serving

HISTOGRAM = "agenthub_http_request_duration_seconds_count"


@pytest.fixture
def settings(database_url: str) -> Settings:
    base = make_settings(database_url)
    base.protocols["comfyui"] = comfyui_settings()
    return base


@pytest.fixture
async def world(runtime: Runtime, clock: ManualClock) -> AsyncIterator[ComfyWorld]:
    async with (
        serving(runtime, "comfyui") as listeners,
        httpx.AsyncClient(base_url=listeners.urls["comfyui"], timeout=20) as http,
    ):
        yield ComfyWorld(http, runtime, clock)


async def test_http_and_push_histograms_count_what_happened(world: ComfyWorld, runtime: Runtime) -> None:
    # An agent nobody listens for: the push is refused at once, and timed all the same.
    await world.agent("gpu-1", base_url="http://127.0.0.1:9")
    manifest = await world.manifest()
    task = await world.task("gpu-1", manifest["id"])
    await world.task_view(task["id"])
    await world.task_view(task["id"])
    assert (await world.http.get(f"/api/agent/operator/tasks/{task['id']}")).status_code == 401  # no key
    assert (await world.http.get("/no/such/path")).status_code == 404
    await world.context.pusher.settled()  # the push creating the task set off, and its take-back, ended

    m = await scrape(runtime)

    def http(route: str, method: str = "GET", status: str = "2xx") -> float:
        return value(m, HISTOGRAM, protocol="comfyui", method=method, route=route, status=status)

    assert http("/api/agent/operator/agents", "POST") == 1
    assert http("/api/agent/operator/tasks", "POST") == 1
    assert http("/api/agent/operator/tasks/{task_id}") == 2
    assert http("/api/agent/operator/tasks/{task_id}", status="4xx") == 1
    assert http("<unmatched>", status="4xx") == 1
    assert not any(labels.get("route") == "/no/such/path" for labels, _ in m[HISTOGRAM])
    assert value(m, "agenthub_push_latency_seconds_count", protocol="comfyui") == 1
    # The refused push gave the lease back: a lost lease, and the task waits for its retry.
    assert value(m, "agenthub_lease_expiries_total", kind="comfyui.task") == 1
    assert value(m, "agenthub_jobs", kind="comfyui.task", status="pending") == 1
