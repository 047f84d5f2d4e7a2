"""`/metrics` against jobs run through the engine, on SQLite and PostgreSQL: the gauges read the database,
the counters count what the engine did in this runtime."""

from __future__ import annotations

from datetime import timedelta

import httpx

from agenthub.core.clock import ManualClock
from agenthub.core.jobs import JobFilter, KindPolicy, LeaseRef, NewJob
from agenthub.core.nodes import NodeSighting
from agenthub.server.metrics import Metrics, metrics_app
from agenthub.server.runtime import Runtime
from tests.integration.observability.support import scrape, value

KIND = "test.metrics"
NODE_KIND = "test.node"
LEASE = timedelta(seconds=90)


async def run_jobs(runtime: Runtime, clock: ManualClock) -> None:
    """4 jobs: one succeeds, one fails and is retried, one fails for good, two leases run out."""
    engine = runtime.engine
    engine.register_kind(KIND, KindPolicy())
    ids = []
    for i in range(4):
        job = await engine.submit(NewJob(kind=KIND, type="t", payload={"i": i}))
        assert job is not None
        ids.append(job.id)
    a, b, c, d = ids
    leased = await engine.lease(JobFilter(kind=KIND), node_id="n1", limit=3, lease_for=LEASE)
    assert [j.id for j in leased] == [a, b, c]
    held = {j.id: LeaseRef("n1", j.lease_epoch) for j in leased}
    await engine.complete(a, held[a], result={"ok": True})
    retried = await engine.fail(b, held[b], error_code="E_BUSY", message="busy")
    assert retried.job.status.value == "pending"
    await engine.fail(c, held[c], error_code="E_BAD", message="bad input", retryable=False)
    again = await engine.lease(JobFilter(kind=KIND), node_id="n2", limit=5, lease_for=LEASE)
    assert sorted(j.id for j in again) == [b, d]
    clock.advance(seconds=91)
    expired = await engine.expire_due()
    assert sorted(ch.job.id for ch in expired) == [b, d]


async def test_metrics_match_the_jobs_and_agents_the_engine_saw(runtime: Runtime, clock: ManualClock) -> None:
    await run_jobs(runtime, clock)
    engine = runtime.engine
    await engine.node_seen(NodeSighting(kind=NODE_KIND, node_id="n1", owner_id=7))
    await engine.node_seen(NodeSighting(kind=NODE_KIND, node_id="n2"))
    await engine.node_seen(NodeSighting(kind=NODE_KIND, node_id="n3"))
    await engine.node_gone(NODE_KIND, "n2")

    m = await scrape(runtime)

    jobs = {s: value(m, "agenthub_jobs", kind=KIND, status=s) for s in ("pending", "success", "failed")}
    assert jobs == {"pending": 2, "success": 1, "failed": 1}
    for status in ("leased", "running", "cancelled", "expired"):
        assert value(m, "agenthub_jobs", kind=KIND, status=status) == 0
    transitions = {
        event: value(m, "agenthub_job_transitions_total", kind=KIND, event=event)
        for event in ("created", "leased", "success", "fail", "timeout_requeued", "timeout")
    }
    assert transitions == {
        "created": 4,
        "leased": 5,
        "success": 1,
        "fail": 2,
        "timeout_requeued": 2,
        "timeout": 0,
    }
    assert value(m, "agenthub_lease_expiries_total", kind=KIND) == 2
    assert value(m, "agenthub_job_retries_total", kind=KIND) == 3  # b's failure, b's and d's lost leases
    assert value(m, "agenthub_agents", kind=NODE_KIND, state="online") == 2
    assert value(m, "agenthub_agents", kind=NODE_KIND, state="offline") == 1
    assert value(m, "agenthub_db_write_queue_depth") == 0
    assert "agenthub_db_pool_connections" in m

    # Gauges follow the database at each scrape; counters only grow.
    clock.advance(seconds=1)
    [job] = await engine.lease(JobFilter(kind=KIND), node_id="n1", limit=1, lease_for=LEASE)
    await engine.cancel(job.id, reason="operator")
    m = await scrape(runtime)
    assert value(m, "agenthub_jobs", kind=KIND, status="pending") == 1
    assert value(m, "agenthub_jobs", kind=KIND, status="cancelled") == 1
    assert value(m, "agenthub_job_transitions_total", kind=KIND, event="cancelled") == 1


async def test_each_runtime_has_its_own_registry(runtime: Runtime) -> None:
    other = Metrics()
    runtime.metrics.observe_push("devices", 0.01)
    assert other.registry is not runtime.metrics.registry
    labels = {"protocol": "devices"}
    assert runtime.metrics.registry.get_sample_value("agenthub_push_latency_seconds_count", labels) == 1
    assert other.registry.get_sample_value("agenthub_push_latency_seconds_count", labels) is None


async def test_metrics_app_answers_only_get_metrics(runtime: Runtime) -> None:
    transport = httpx.ASGITransport(app=metrics_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as client:
        assert (await client.get("/other")).status_code == 404
        assert (await client.post("/metrics")).status_code == 405
