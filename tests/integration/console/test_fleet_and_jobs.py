"""Fleet and jobs over the console API: every node of every protocol, filters, keyset paging, a job's page."""

from __future__ import annotations

import httpx

from agenthub.core.clock import ManualClock
from agenthub.core.jobs import JobFilter, LeaseRef, NewJob
from agenthub.server.runtime import Runtime
from tests.integration.console.conftest import LEASE, node, oas_job


async def test_the_fleet_lists_every_node_of_every_protocol(
    runtime: Runtime, operator: httpx.AsyncClient, clock: ManualClock
) -> None:
    await node(runtime, "oas", "PC-1", owner=1)
    await node(runtime, "devices", "phone-1")
    await node(runtime, "comfyui", "gpu-1")
    clock.advance(seconds=400)  # past every presence window: only PC-2, seen after, is online
    await node(runtime, "oas", "PC-2", owner=1)
    job_id = await oas_job(runtime)
    await runtime.engine.lease(JobFilter(kind="oas.task"), node_id="PC-2", limit=1, lease_for=LEASE)

    nodes = (await operator.get("/api/fleet")).json()["nodes"]
    by_id = {n["node_id"]: n for n in nodes}
    assert set(by_id) == {"PC-1", "PC-2", "phone-1", "gpu-1"}
    assert {n["protocol"] for n in nodes} == {"oas", "devices", "comfyui"}
    assert by_id["PC-2"]["online"] and by_id["PC-2"]["owner_id"] == 1 and by_id["PC-2"]["version"] == "1.0"
    assert by_id["PC-2"]["load"] == "1 tasks, 0 scans held"
    assert not by_id["phone-1"]["online"]
    assert by_id["phone-1"]["load"] == "0/3 tasks"

    oas = (await operator.get("/api/fleet", params={"protocol": "oas"})).json()["nodes"]
    assert {n["node_id"] for n in oas} == {"PC-1", "PC-2"}
    online = (await operator.get("/api/fleet", params={"state": "online"})).json()["nodes"]
    assert "PC-2" in {n["node_id"] for n in online} and "phone-1" not in {n["node_id"] for n in online}

    page = (await operator.get("/api/nodes/oas/PC-2")).json()
    assert [j["id"] for j in page["jobs"]] == [job_id]
    assert (await operator.get("/api/nodes/oas/nope")).status_code == 404


async def test_jobs_page_by_keyset_with_filters_and_search(
    runtime: Runtime, operator: httpx.AsyncClient
) -> None:
    ids = [await oas_job(runtime) for _ in range(5)]
    device = await runtime.engine.submit(NewJob(kind="devices.task", type="delist", external_id="task-abc"))
    assert device is not None
    await runtime.engine.cancel(ids[0])

    first = (await operator.get("/api/jobs", params={"limit": 4})).json()
    assert [j["id"] for j in first["jobs"]] == [device.id, *reversed(ids[2:])]
    assert first["next_before"] == ids[2]
    second = (await operator.get("/api/jobs", params={"limit": 4, "before": first["next_before"]})).json()
    assert [j["id"] for j in second["jobs"]] == [ids[1], ids[0]]
    assert second["next_before"] is None

    row = first["jobs"][0]
    assert row["protocol"] == "devices" and row["kind"] == "devices.task" and row["type"] == "delist"
    assert row["status"] == "pending" and row["attempts"] == 0 and row["holder"] is None

    async def ids_of(**params: object) -> list[int]:
        return [j["id"] for j in (await operator.get("/api/jobs", params=params)).json()["jobs"]]

    assert await ids_of(protocol="devices") == [device.id]
    assert await ids_of(status="cancelled") == [ids[0]]
    assert await ids_of(protocol="oas", status="pending") == list(reversed(ids[1:]))
    assert await ids_of(q="task-abc") == [device.id]
    assert await ids_of(q=str(ids[3])) == [ids[3]]
    assert await ids_of(type="delist") == [device.id]
    assert (await operator.get("/api/jobs", params={"status": "bogus"})).status_code == 400


async def test_a_job_page_has_events_payload_result_and_retries(
    runtime: Runtime, operator: httpx.AsyncClient
) -> None:
    job_id = await oas_job(runtime, payload={"task": "每日签到"}, max_attempts=3)
    engine = runtime.engine
    await engine.lease(JobFilter(kind="oas.task"), node_id="PC-1", limit=1, lease_for=LEASE)
    await engine.fail(job_id, LeaseRef("PC-1"), error_code="BOOM", message="崩溃了")
    await engine.lease(JobFilter(kind="oas.task"), node_id="PC-1", limit=1, lease_for=LEASE)
    await engine.complete(job_id, LeaseRef("PC-1"), result={"ok": True})

    page = (await operator.get(f"/api/jobs/{job_id}")).json()
    assert page["job"]["payload"] == {"task": "每日签到"}
    assert page["job"]["result"] == {"ok": True}
    assert page["job"]["status"] == "success" and page["job"]["attempts"] == 1
    assert [e["type"] for e in page["events"]] == ["created", "leased", "fail", "leased", "success"]
    assert page["events"][2]["message"] == "崩溃了"
    [retry] = page["retries"]
    assert retry["event"] == "fail" and retry["attempts"] == 1 and retry["retry_at"] is not None
    assert page["why"] == [{"code": "not_pending", "text": "it is not pending: it is success", "until": None}]
    assert (await operator.get("/api/jobs/999999")).status_code == 404
