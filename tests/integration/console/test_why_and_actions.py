"""Why a job is pending, from the engine's state (schedule, retry backoff, agents online) and a protocol's
hook; the operator's actions (cancel, retry now, disable/enable a node), each an event with who did it."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from agenthub.core.clock import ManualClock
from agenthub.core.errors import InvalidTransition
from agenthub.core.jobs import JobFilter, JobStatus, LeaseRef, NewJob
from agenthub.protocols.devices.spec import SPEC as DEVICES
from agenthub.sdk.devices import DeviceClient, Task
from agenthub.server.runner import Listeners
from agenthub.server.runtime import Runtime
from tests.integration.console.conftest import BACKOFF_KIND, LEASE, node, oas_job, slow_backoff
from tests.integration.devices.conftest import eventually


async def reasons(operator: httpx.AsyncClient, job_id: int) -> list[dict[str, str]]:
    response = await operator.get(f"/api/jobs/{job_id}/why")
    assert response.status_code == 200, response.text
    body: list[dict[str, str]] = response.json()["reasons"]
    return body


async def test_no_agent_of_its_owner_online_then_waiting(
    runtime: Runtime, operator: httpx.AsyncClient, clock: ManualClock
) -> None:
    job_id = await oas_job(runtime, owner=7)
    [why] = await reasons(operator, job_id)
    assert why["code"] == "no_agent"
    assert why["text"] == "no agent of its owner (#7) is online (none has ever connected)"

    await node(runtime, "oas", "PC-OTHER", owner=8)  # another manager's agent does not count
    assert (await reasons(operator, job_id))[0]["code"] == "no_agent"

    await node(runtime, "oas", "PC-7", owner=7)
    [why] = await reasons(operator, job_id)
    assert why["code"] == "waiting" and why["text"].startswith("due since 2026-03-02T04:00:00+00:00")

    clock.advance(seconds=121)
    [why] = await reasons(operator, job_id)
    assert why["text"] == "no agent of its owner (#7) is online (last seen 2026-03-02T04:00:00+00:00)"


async def test_scheduled_for_later(runtime: Runtime, operator: httpx.AsyncClient, clock: ManualClock) -> None:
    await node(runtime, "oas", "PC-1", owner=1)
    job_id = await oas_job(runtime, scheduled_at=clock.now() + timedelta(minutes=10))
    [why] = await reasons(operator, job_id)
    assert why == {
        "code": "scheduled",
        "text": "scheduled for later: due at 2026-03-02T04:10:00+00:00, in 600s",
        "until": "2026-03-02T04:10:00Z",
    }


async def test_retry_backoff_until_the_time_its_failure_set(
    runtime: Runtime, operator: httpx.AsyncClient, clock: ManualClock
) -> None:
    slow_backoff(runtime)
    engine = runtime.engine
    job = await engine.submit(NewJob(kind=BACKOFF_KIND, type="t", max_attempts=3))
    assert job is not None
    await engine.lease(JobFilter(kind=BACKOFF_KIND), node_id="n1", limit=1, lease_for=LEASE)
    await engine.fail(job.id, LeaseRef("n1"), error_code="BOOM", message="disk full")
    why = await reasons(operator, job.id)
    assert why[0]["code"] == "retry_backoff"
    assert why[0]["text"].startswith("retry backoff after attempt 1 (fail: disk full) until 2026-03-02T04:00")


async def test_cancel_and_retry_now_are_events_with_the_operator(
    runtime: Runtime, operator: httpx.AsyncClient
) -> None:
    engine = runtime.engine
    job_id = await oas_job(runtime, max_attempts=1)
    await engine.lease(JobFilter(kind="oas.task"), node_id="PC-1", limit=1, lease_for=LEASE)
    await engine.fail(job_id, LeaseRef("PC-1"), error_code="BOOM")
    assert (await engine.get(job_id)).status is JobStatus.FAILED

    retried = await operator.post(f"/api/jobs/{job_id}/retry")
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "pending"
    [leased] = await engine.lease(JobFilter(kind="oas.task"), node_id="PC-1", limit=1, lease_for=LEASE)
    assert leased.id == job_id and leased.max_attempts == 2

    cancelled = await operator.post(f"/api/jobs/{job_id}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    events = (await operator.get(f"/api/jobs/{job_id}")).json()["events"]
    retry_event = next(e for e in events if e["type"] == "retry_now")
    cancel_event = next(e for e in events if e["type"] == "cancelled")
    assert retry_event["data"] == {"by": "root", "from": "failed"}
    assert cancel_event["data"] == {"by": "root"} and cancel_event["message"] == "cancelled by root"

    again = await operator.post(f"/api/jobs/{job_id}/retry")
    assert again.status_code == 409 and again.json()["error"] == "INVALID_TRANSITION"
    done = await oas_job(runtime)
    await engine.cancel(done)
    assert (await operator.post(f"/api/jobs/{done}/cancel")).status_code == 200  # idempotent


async def test_retry_now_skips_a_backoff(
    runtime: Runtime, operator: httpx.AsyncClient, clock: ManualClock
) -> None:
    slow_backoff(runtime)
    engine = runtime.engine
    job = await engine.submit(NewJob(kind=BACKOFF_KIND, type="t", max_attempts=3))
    assert job is not None
    await engine.lease(JobFilter(kind=BACKOFF_KIND), node_id="n1", limit=1, lease_for=LEASE)
    await engine.fail(job.id, LeaseRef("n1"))
    assert await engine.lease(JobFilter(kind=BACKOFF_KIND), node_id="n1", limit=1, lease_for=LEASE) == []
    assert (await operator.post(f"/api/jobs/{job.id}/retry")).status_code == 200
    [leased] = await engine.lease(JobFilter(kind=BACKOFF_KIND), node_id="n1", limit=1, lease_for=LEASE)
    assert leased.id == job.id


async def test_a_disabled_node_leases_nothing(runtime: Runtime, operator: httpx.AsyncClient) -> None:
    engine = runtime.engine
    await node(runtime, "oas", "PC-1", owner=1)
    job_id = await oas_job(runtime)
    disabled = await operator.post("/api/nodes/oas/PC-1/disable")
    assert disabled.status_code == 200
    assert disabled.json()["disabled_by"] == "root" and disabled.json()["state"] == "disabled"
    lease = {"node_id": "PC-1", "limit": 5, "lease_for": LEASE}
    assert await engine.lease(JobFilter(kind="oas.task"), **lease) == []  # type: ignore[arg-type]
    [why] = await reasons(operator, job_id)
    assert why["code"] == "agents_disabled"
    assert why["text"] == "every eligible agent online is disabled by an operator: PC-1 (by root)"

    assert (await operator.post("/api/nodes/oas/PC-1/enable")).json()["disabled"] is False
    [leased] = await engine.lease(JobFilter(kind="oas.task"), **lease)  # type: ignore[arg-type]
    assert leased.id == job_id
    assert (await operator.post("/api/nodes/oas/ghost/disable")).status_code == 404


async def test_a_disabled_node_is_not_given_a_job_by_a_push_protocol(
    runtime: Runtime, operator: httpx.AsyncClient
) -> None:
    await node(runtime, "devices", "phone-1")
    job = await runtime.engine.submit(NewJob(kind="devices.task", type="delist"))
    assert job is not None
    await operator.post("/api/nodes/devices/phone-1/disable")
    response = await operator.post(f"/api/jobs/{job.id}/cancel")  # still the operator's to cancel
    assert response.status_code == 200
    other = await runtime.engine.submit(NewJob(kind="devices.task", type="delist"))
    assert other is not None
    with pytest.raises(InvalidTransition):
        await runtime.engine.lease_one(other.id, node_id="phone-1", lease_for=LEASE)


async def test_devices_places_tasks_on_enabled_devices_only(
    runtime: Runtime, served: Listeners, operator: httpx.AsyncClient
) -> None:
    async with (
        httpx.AsyncClient(base_url=served.urls["devices"], timeout=10) as devices,
        DeviceClient(served.urls["devices"], device_id="phone-1") as one,
        DeviceClient(served.urls["devices"], device_id="phone-2") as two,
    ):
        gate = asyncio.Event()

        async def hold(_task: Task) -> dict[str, Any]:
            await gate.wait()
            return {}

        one.task("DELIST")(hold)
        two.task("DELIST")(hold)
        await operator.post("/api/nodes/devices/phone-1/disable")
        fleet = DEVICES.state_of(runtime).service.fleet

        async def heard() -> bool:  # the devices protocol hears of it through the bus
            return fleet.nodes["phone-1"].disabled

        await eventually(heard)
        body = {"task_type": "DELIST", "data": {"product_ids": ["1"]}}
        for _ in range(2):
            dispatched = await devices.post("/api/dispatch-task", json=body)
            assert dispatched.status_code == 200, dispatched.text
            assert dispatched.json()["device_id"] == "phone-2"
        dispatched = await devices.post("/api/dispatch-task", json=body)
        assert dispatched.json()["device_id"] == "phone-2"  # 3/3: full
        waiting = await devices.post("/api/dispatch-task", json=body)
        task_id = waiting.json()["task_id"]
        [job] = (await operator.get("/api/jobs", params={"q": task_id})).json()["jobs"]
        assert job["status"] == "pending"
        assert [r["text"] for r in await reasons(operator, job["id"])] == [
            "every eligible device is full (all 1 online devices: 3/3 tasks each)"
        ]
        refused = await devices.post(
            "/api/dispatch-task",
            json={"task_type": "DELIST", "data": {"product_ids": ["1"]}, "device_id": "phone-1"},
        )
        assert refused.json()["success"] is False  # refused like an offline device
        gate.set()
