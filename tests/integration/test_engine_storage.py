"""The engine over real storage, on SQLite and PostgreSQL: ordering, fencing, expiry, atomicity, races."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from agenthub.core.clock import ManualClock
from agenthub.core.errors import Conflict, InvalidTransition, InvalidValue, JobNotFound, LeaseMismatch
from agenthub.core.jobs import Change, JobFilter, JobQuery, JobStatus, KindPolicy, LeaseRef, NewJob
from agenthub.core.nodes import NodeSighting, NodeStatus
from agenthub.server.runtime import Runtime
from agenthub.server.settings import Settings
from agenthub.server.startup import open_runtime
from agenthub.storage.database import lease_pool_size
from agenthub.storage.tables import job_events, jobs

KIND = "test.job"
LEASE = timedelta(seconds=90)
QUEUE = JobFilter(kind=KIND)


async def submit(runtime: Runtime, n: int = 1, **fields: Any) -> list[int]:
    ids = []
    for i in range(n):
        job = await runtime.engine.submit(NewJob(kind=KIND, type="t", payload={"i": i}, **fields))
        assert job is not None
        ids.append(job.id)
    return ids


async def event_types(runtime: Runtime, job_id: int) -> list[str]:
    return [e.type for e in await runtime.engine.events(job_id)]


async def test_lease_order_is_priority_then_oldest_and_only_due_jobs(
    runtime: Runtime, clock: ManualClock
) -> None:
    low = await submit(runtime, 2, priority=10)
    high = await submit(runtime, 1, priority=50)
    later = await submit(runtime, 1, priority=99, scheduled_at=clock.now() + timedelta(minutes=5))
    leased = await runtime.engine.lease(QUEUE, node_id="a", limit=10, lease_for=timedelta(hours=1))
    assert [j.id for j in leased] == high + low
    assert all(j.status is JobStatus.LEASED and j.leased_by == "a" for j in leased)
    clock.advance(minutes=5)
    assert [j.id for j in await runtime.engine.lease(QUEUE, node_id="a", limit=10, lease_for=LEASE)] == later


async def test_lease_respects_owner_and_target_node(runtime: Runtime) -> None:
    mine = await submit(runtime, 1, owner_id=1)
    await submit(runtime, 1, owner_id=2)
    assert [
        j.id
        for j in await runtime.engine.lease(
            JobFilter(kind=KIND, owner_id=1), node_id="a", limit=10, lease_for=LEASE
        )
    ] == mine
    for_b = await submit(runtime, 1, owner_id=3, target_node="b")
    assert (
        await runtime.engine.lease(
            JobFilter(kind=KIND, owner_id=3, node_id="a"), node_id="a", limit=10, lease_for=LEASE
        )
        == []
    )
    got = await runtime.engine.lease(
        JobFilter(kind=KIND, owner_id=3, node_id="b"), node_id="b", limit=10, lease_for=LEASE
    )
    assert [j.id for j in got] == for_b


async def test_lease_respects_types_and_kind(runtime: Runtime) -> None:
    wanted = [
        (await runtime.engine.submit(NewJob(kind=KIND, type=t, payload={}))).id  # type: ignore[union-attr]
        for t in ("render", "upscale")
    ]
    await runtime.engine.submit(NewJob(kind=KIND, type="train", payload={}))
    await runtime.engine.submit(NewJob(kind="test.other", type="render", payload={}))
    got = await runtime.engine.lease(
        JobFilter(kind=KIND, types=("render", "upscale")), node_id="a", limit=10, lease_for=LEASE
    )
    assert sorted(j.id for j in got) == wanted
    assert [j.type for j in await runtime.engine.lease(QUEUE, node_id="a", limit=10, lease_for=LEASE)] == [
        "train"
    ]


async def test_refused_write_changes_nothing(runtime: Runtime) -> None:
    [job_id] = await submit(runtime)
    await runtime.engine.lease(QUEUE, node_id="a", limit=1, lease_for=LEASE)
    before = await runtime.engine.get(job_id)
    with pytest.raises(LeaseMismatch):
        await runtime.engine.complete(job_id, LeaseRef("b"), result={"stolen": True})
    assert await runtime.engine.get(job_id) == before
    assert await event_types(runtime, job_id) == ["created", "leased"]
    with pytest.raises(JobNotFound):
        await runtime.engine.start(999_999, LeaseRef("a"), lease_for=LEASE)


async def test_expired_lease_is_requeued_then_failed_at_max_attempts(
    runtime: Runtime, clock: ManualClock
) -> None:
    [job_id] = await submit(runtime, max_attempts=2)
    await runtime.engine.lease(QUEUE, node_id="a", limit=1, lease_for=LEASE)
    clock.advance(91)
    [change] = await runtime.engine.expire_due()
    assert change.job.status is JobStatus.PENDING and change.job.attempts == 1
    await runtime.engine.lease(QUEUE, node_id="b", limit=1, lease_for=LEASE)
    clock.advance(91)
    await runtime.engine.expire_due()
    job = await runtime.engine.get(job_id)
    assert job.status is JobStatus.FAILED and job.attempts == 2
    assert await event_types(runtime, job_id) == [
        "created",
        "leased",
        "timeout_requeued",
        "leased",
        "timeout",
    ]


async def test_kind_policy_decides_the_exhausted_status(runtime: Runtime, clock: ManualClock) -> None:
    runtime.engine.register_kind(KIND, KindPolicy(exhausted_status=JobStatus.EXPIRED))
    [job_id] = await submit(runtime, max_attempts=1)
    await runtime.engine.lease(QUEUE, node_id="a", limit=1, lease_for=LEASE)
    clock.advance(120)
    await runtime.engine.expire_due()
    assert (await runtime.engine.get(job_id)).status is JobStatus.EXPIRED


async def test_deadline_expires_pending_and_held_jobs(runtime: Runtime, clock: ManualClock) -> None:
    deadline = clock.now() + timedelta(minutes=15)
    waiting, held = await submit(runtime, 2, deadline=deadline)
    await runtime.engine.lease(QUEUE, node_id="a", limit=1, lease_for=timedelta(hours=1))
    clock.advance(minutes=15)
    await runtime.engine.expire_due()
    assert (await runtime.engine.get(waiting)).status is JobStatus.EXPIRED
    assert (await runtime.engine.get(held)).status is JobStatus.EXPIRED


async def test_a_poll_expires_overdue_jobs_before_it_leases(runtime: Runtime, clock: ManualClock) -> None:
    [overdue] = await submit(runtime, 1, deadline=clock.now() + timedelta(minutes=15))
    [fresh] = await submit(runtime, 1)
    clock.advance(minutes=15)
    leased = await runtime.engine.lease(QUEUE, node_id="a", limit=2, lease_for=LEASE)
    assert [job.id for job in leased] == [fresh]
    assert (await runtime.engine.get(overdue)).status is JobStatus.EXPIRED


async def test_hook_runs_in_the_same_transaction(runtime: Runtime) -> None:
    [job_id] = await submit(runtime)
    await runtime.engine.lease(QUEUE, node_id="a", limit=1, lease_for=LEASE)

    async def broken_hook(conn: Any, change: Change) -> None:
        await conn.execute(jobs.update().where(jobs.c.id == change.job.id).values(message="half-written"))
        raise RuntimeError("the protocol's own write failed")

    with pytest.raises(RuntimeError):
        await runtime.engine.complete(job_id, LeaseRef("a"), hook=broken_hook)
    job = await runtime.engine.get(job_id)
    assert job.status is JobStatus.LEASED and job.message is None
    assert await event_types(runtime, job_id) == ["created", "leased"]


async def test_dedupe_key_admits_one_job(runtime: Runtime) -> None:
    first = await runtime.engine.submit(NewJob(kind=KIND, type="t", dedupe_key="user1:signin:slot1"))
    second = await runtime.engine.submit(NewJob(kind=KIND, type="t", dedupe_key="user1:signin:slot1"))
    assert first is not None and second is None


async def test_changes_are_announced_on_the_bus_after_commit(runtime: Runtime) -> None:
    async with runtime.bus.subscribe("jobs." + KIND) as subscription:
        [job_id] = await submit(runtime)
        await runtime.engine.lease(QUEUE, node_id="a", limit=1, lease_for=LEASE)
        await runtime.engine.complete(job_id, LeaseRef("a"))
        seen = [await subscription.get(timeout=2) for _ in range(3)]
    assert [m[1]["event"] for m in seen if m] == ["created", "leased", "success"]


async def test_concurrent_polls_never_lease_a_job_twice(runtime: Runtime) -> None:
    job_ids = await submit(runtime, 120)

    async def agent(name: str) -> list[int]:
        got: list[int] = []
        while batch := await runtime.engine.lease(QUEUE, node_id=name, limit=3, lease_for=LEASE):
            got += [j.id for j in batch]
        return got

    results = await asyncio.gather(*(agent(f"node-{i}") for i in range(12)))
    leased = [job_id for batch in results for job_id in batch]
    assert sorted(leased) == sorted(job_ids)
    assert len(set(leased)) == len(leased)
    async with runtime.db.read() as conn:
        counts = (
            await conn.execute(
                sa.select(job_events.c.job_id, sa.func.count())
                .where(job_events.c.type == "leased")
                .group_by(job_events.c.job_id)
            )
        ).all()
    assert all(n == 1 for _, n in counts)


async def test_two_replicas_on_one_database_never_share_a_job(settings: Settings, clock: ManualClock) -> None:
    async with open_runtime(settings, clock=clock) as one, open_runtime(settings, clock=clock) as two:
        job_ids = await submit(one, 60)

        async def drain(runtime: Runtime, name: str) -> list[int]:
            got: list[int] = []
            while batch := await runtime.engine.lease(QUEUE, node_id=name, limit=2, lease_for=LEASE):
                got += [j.id for j in batch]
            return got

        results = await asyncio.gather(
            *(drain(rt, f"{rt_name}-{i}") for i in range(4) for rt_name, rt in (("one", one), ("two", two)))
        )
    leased = [job_id for batch in results for job_id in batch]
    assert sorted(leased) == sorted(job_ids)


async def test_node_presence(runtime: Runtime, clock: ManualClock) -> None:
    node = await runtime.engine.node_seen(NodeSighting(kind="k", node_id="n1", owner_id=7, version="1.0"))
    assert node.status is NodeStatus.ONLINE and node.owner_id == 7
    clock.advance(60)
    await runtime.engine.node_seen(NodeSighting(kind="k", node_id="n2"))
    clock.advance(70)
    stale = await runtime.engine.mark_silent_nodes_offline()
    assert [n.node_id for n in stale] == ["n1"]
    again = await runtime.engine.node_seen(NodeSighting(kind="k", node_id="n1"))
    assert again.status is NodeStatus.ONLINE and again.version == "1.0" and again.owner_id == 7


@pytest.mark.parametrize(
    "fields",
    [
        {"owner_id": 2**63},
        {"owner_id": -(2**63) - 1},
        {"external_id": "a\x00b"},
        {"payload": {"text": "a\x00b"}},
    ],
)
async def test_values_no_database_can_hold_are_refused_alike_and_change_nothing(
    runtime: Runtime, fields: dict[str, Any]
) -> None:
    with pytest.raises(InvalidValue):
        await runtime.engine.submit(NewJob(kind=KIND, type="t", **fields))
    assert await runtime.engine.count(JobQuery(kind=KIND)) == 0
    with pytest.raises(InvalidValue):
        await runtime.engine.get(2**64)
    [job_id] = await submit(runtime)  # the database is still fine
    assert (await runtime.engine.get(job_id)).status is JobStatus.PENDING


STORED_TIME = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$"


async def test_a_job_reads_back_the_same_whichever_path_wrote_it(
    runtime: Runtime, clock: ManualClock
) -> None:
    """The transitions write through plain sqlite3 (sqlite_jobs.py) or asyncpg (postgres_jobs.py) and
    everything else through SQLAlchemy: each must read what the other wrote, values and formats alike."""
    payload = {"text": "签到 é", "nested": {"list": [1, 2.5, None, True]}}
    job = await runtime.engine.submit(
        NewJob(kind=KIND, type="t", payload=payload, deadline=clock.now() + timedelta(hours=1))
    )
    assert job is not None
    job_id = job.id
    [leased] = await runtime.engine.lease(QUEUE, node_id="n", limit=1, lease_for=LEASE)
    assert leased == await runtime.engine.get(job_id)
    clock.advance(seconds=1.5)  # a time with microseconds
    started = await runtime.engine.start(job_id, LeaseRef("n"), lease_for=LEASE, message="go")
    assert started.job == await runtime.engine.get(job_id)
    result = {"account_status": "active", "assets": {"金币": 10**18}, "none": None}
    done = await runtime.engine.complete(job_id, LeaseRef("n"), result=result, message="ok")
    again = await runtime.engine.get(job_id)
    assert done.job == again
    assert (again.payload, again.result, again.status) == (payload, result, JobStatus.SUCCESS)
    assert [e.type for e in await runtime.engine.events(job_id)] == [
        "created",
        "leased",
        "start",
        "success",
    ]
    if runtime.db.is_sqlite:
        times = [
            "scheduled_at",
            "deadline",
            "started_at",
            "finished_at",
            "created_at",
            "updated_at",
        ]
        async with runtime.db.read() as conn:
            row = (
                await conn.execute(
                    sa.text(f"SELECT {', '.join(times)} FROM jobs WHERE id = :id"), {"id": job_id}
                )
            ).one()
            event_times = (
                await conn.execute(
                    sa.text("SELECT created_at FROM job_events WHERE job_id = :id"), {"id": job_id}
                )
            ).scalars()
            for value in [*row, *event_times]:
                assert value is not None and re.match(STORED_TIME, value), value


async def test_a_value_no_database_can_hold_in_a_transition_is_refused_and_changes_nothing(
    runtime: Runtime,
) -> None:
    [job_id] = await submit(runtime)
    await runtime.engine.lease(QUEUE, node_id="n", limit=1, lease_for=LEASE)
    for result in ({"text": "a\x00b"}, {"a\x00": 1}):
        with pytest.raises(InvalidValue):
            await runtime.engine.complete(job_id, LeaseRef("n"), result=result)
    job = await runtime.engine.get(job_id)
    assert (job.status, job.result) == (JobStatus.LEASED, None)
    assert await event_types(runtime, job_id) == ["created", "leased"]


async def test_a_disabled_node_leases_nothing_pulled_or_pushed(runtime: Runtime) -> None:
    """The disabled flag is read inside the lease's own statement or transaction, on both paths."""
    pulled, pushed = await submit(runtime, 2)
    await runtime.engine.node_seen(NodeSighting(kind="test.node", node_id="n"))
    await runtime.engine.set_node_disabled("test.node", "n", disabled=True, operator="root")
    assert await runtime.engine.lease(QUEUE, node_id="n", limit=10, lease_for=LEASE) == []
    with pytest.raises(InvalidTransition):
        await runtime.engine.lease_one(pushed, node_id="n", lease_for=LEASE)
    assert {(await runtime.engine.get(i)).status for i in (pulled, pushed)} == {JobStatus.PENDING}
    assert await event_types(runtime, pushed) == ["created"]
    assert [j.id for j in await runtime.engine.lease(QUEUE, node_id="other", limit=1, lease_for=LEASE)] == [
        pulled
    ]
    await runtime.engine.set_node_disabled("test.node", "n", disabled=False, operator="root")
    assert (await runtime.engine.lease_one(pushed, node_id="n", lease_for=LEASE)).job.leased_by == "n"


async def test_a_taken_external_id_is_a_conflict_and_the_dedupe_key_a_quiet_none(runtime: Runtime) -> None:
    first = await runtime.engine.submit(NewJob(kind=KIND, type="t", external_id="x-1", dedupe_key="d-1"))
    assert first is not None
    with pytest.raises(Conflict):
        await runtime.engine.submit(NewJob(kind=KIND, type="t", external_id="x-1"))
    assert await runtime.engine.submit(NewJob(kind=KIND, type="t", dedupe_key="d-1")) is None
    assert await runtime.engine.count(JobQuery(kind=KIND)) == 1
    [created] = await runtime.engine.events(first.id)
    assert (created.type, created.data, created.node_id) == ("created", None, None)


async def test_the_connection_pool_is_open_before_the_first_request(runtime: Runtime) -> None:
    """A fresh server opens its PostgreSQL connections at start, not on its first requests."""
    stats = runtime.db.pool_stats()
    if runtime.db.is_sqlite:
        return  # nothing to open ahead: one file, one writer connection
    pool_size = runtime.settings.storage.db_pool_size
    assert stats["idle"] == stats["size"] == pool_size + lease_pool_size(pool_size), stats
