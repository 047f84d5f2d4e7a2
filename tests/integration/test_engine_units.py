"""The engine's write path under concurrency, on SQLite and PostgreSQL: each transition is one unit of work;
on SQLite concurrent units share one transaction (group commit), yet every caller gets its own outcome, a
failing unit never fails its neighbours, and a call returns only once its change is committed."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from agenthub.core.clock import ManualClock
from agenthub.core.errors import LeaseMismatch
from agenthub.core.jobs import Change, JobFilter, JobStatus, LeaseRef, NewJob
from agenthub.core.nodes import NodeSighting
from agenthub.server.runtime import Runtime
from agenthub.server.startup import open_runtime
from agenthub.storage import Database
from agenthub.storage.tables import agent_nodes, job_events, jobs, server_values
from tests.conftest import make_settings

KIND = "test.units"
LEASE = timedelta(seconds=90)
QUEUE = JobFilter(kind=KIND)


async def leased_jobs(runtime: Runtime, n: int, node: str = "a") -> list[int]:
    for i in range(n):
        await runtime.engine.submit(NewJob(kind=KIND, type="t", payload={"i": i}))
    leased = await runtime.engine.lease(QUEUE, node_id=node, limit=n, lease_for=LEASE)
    assert len(leased) == n
    return [job.id for job in leased]


async def test_one_refused_transition_does_not_fail_its_batch(runtime: Runtime) -> None:
    ids = await leased_jobs(runtime, 30)
    # Every third call names the wrong node: its rule raises; the others must still commit.
    calls = [
        runtime.engine.complete(job_id, LeaseRef("intruder" if i % 3 == 0 else "a"), result={"i": i})
        for i, job_id in enumerate(ids)
    ]
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    for i, (job_id, outcome) in enumerate(zip(ids, outcomes, strict=True)):
        job = await runtime.engine.get(job_id)
        if i % 3 == 0:
            assert isinstance(outcome, LeaseMismatch)
            assert job.status is JobStatus.LEASED
            assert [e.type for e in await runtime.engine.events(job_id)] == ["created", "leased"]
        else:
            assert isinstance(outcome, Change) and outcome.job.status is JobStatus.SUCCESS
            assert job.status is JobStatus.SUCCESS and job.result == {"i": i}
            assert [e.type for e in await runtime.engine.events(job_id)] == ["created", "leased", "success"]


async def test_a_failing_hook_rolls_back_only_its_own_transition(runtime: Runtime) -> None:
    ids = await leased_jobs(runtime, 12)
    doomed = set(ids[::4])

    async def hook(conn: Any, change: Change) -> None:
        await conn.execute(
            jobs.update().where(jobs.c.id == change.job.id).values(message=f"hooked {change.job.id}")
        )
        if change.job.id in doomed:
            raise RuntimeError("the protocol's own write failed")

    outcomes = await asyncio.gather(
        *(runtime.engine.complete(job_id, LeaseRef("a"), hook=hook) for job_id in ids),
        return_exceptions=True,
    )
    for job_id, outcome in zip(ids, outcomes, strict=True):
        job = await runtime.engine.get(job_id)
        if job_id in doomed:
            assert isinstance(outcome, RuntimeError)
            assert job.status is JobStatus.LEASED and job.message is None
        else:
            assert isinstance(outcome, Change)
            assert job.status is JobStatus.SUCCESS and job.message == f"hooked {job_id}"


async def test_a_returned_transition_is_visible_to_another_connection(runtime: Runtime) -> None:
    ids = await leased_jobs(runtime, 20)
    outsider = Database(runtime.settings.storage.database_url)
    try:

        async def complete_then_look(job_id: int) -> str:
            await runtime.engine.complete(job_id, LeaseRef("a"))
            async with outsider.read() as conn:
                query = sa.select(jobs.c.status).where(jobs.c.id == job_id)
                return str((await conn.execute(query)).scalar_one())

        statuses = await asyncio.gather(*(complete_then_look(job_id) for job_id in ids))
    finally:
        await outsider.dispose()
    assert statuses == ["success"] * len(ids)


async def test_racing_completes_from_two_nodes_commit_exactly_one(
    runtime: Runtime, clock: ManualClock
) -> None:
    ids = await leased_jobs(runtime, 10, node="a")
    clock.advance(seconds=LEASE.total_seconds() + 1)
    await runtime.engine.expire_due()
    releases = await runtime.engine.lease(QUEUE, node_id="b", limit=10, lease_for=LEASE)
    assert sorted(j.id for j in releases) == sorted(ids)
    outcomes = await asyncio.gather(
        *(runtime.engine.complete(job_id, LeaseRef(node)) for job_id in ids for node in ("a", "b")),
        return_exceptions=True,
    )
    won = [o for o in outcomes if isinstance(o, Change)]
    assert len(won) == len(ids) and all(c.job.leased_by == "b" for c in won)
    assert all(isinstance(o, LeaseMismatch) for o in outcomes if not isinstance(o, Change))
    async with runtime.db.read() as conn:
        query = sa.select(sa.func.count()).where(job_events.c.type == "success")
        assert (await conn.execute(query)).scalar_one() == len(ids)


async def test_lease_fencing_holds_under_concurrent_polls_and_reports(runtime: Runtime) -> None:
    for i in range(60):
        await runtime.engine.submit(NewJob(kind=KIND, type="t", payload={"i": i}))

    async def agent(name: str) -> list[int]:
        done: list[int] = []
        while batch := await runtime.engine.lease(QUEUE, node_id=name, limit=4, lease_for=LEASE):
            for job in batch:
                await runtime.engine.start(job.id, LeaseRef(name), lease_for=LEASE)
                change = await runtime.engine.complete(job.id, LeaseRef(name))
                assert change.job.lease_epoch == job.lease_epoch == 1
                done.append(job.id)
        return done

    done = [job_id for batch in await asyncio.gather(*(agent(f"n{i}") for i in range(8))) for job_id in batch]
    assert len(done) == len(set(done)) == 60
    async with runtime.db.read() as conn:
        rows = (await conn.execute(sa.select(job_events.c.job_id, job_events.c.type))).all()
    assert sum(1 for _, t in rows if t == "success") == 60
    assert sum(1 for _, t in rows if t == "leased") == 60


async def test_protocol_writes_interleave_with_engine_transitions(runtime: Runtime) -> None:
    ids = await leased_jobs(runtime, 10)

    async def protocol_write(i: int) -> None:
        async with runtime.db.write() as conn:
            await conn.execute(server_values.insert().values(key=f"k{i}", value=str(i)))
            await asyncio.sleep(0)  # a protocol may await other things inside its own transaction
            await conn.execute(
                server_values.update().where(server_values.c.key == f"k{i}").values(value="done")
            )

    await asyncio.gather(
        *(runtime.engine.complete(job_id, LeaseRef("a")) for job_id in ids),
        *(protocol_write(i) for i in range(10)),
    )
    async with runtime.db.read() as conn:
        keys = (await conn.execute(sa.select(sa.func.count()).select_from(server_values))).scalar_one()
    assert keys >= 10
    for job_id in ids:
        assert (await runtime.engine.get(job_id)).status is JobStatus.SUCCESS


async def test_a_cancelled_protocol_writer_does_not_stall_the_engine(runtime: Runtime) -> None:
    ids = await leased_jobs(runtime, 3)
    started = asyncio.Event()

    async def slow_write() -> None:
        async with runtime.db.write() as conn:
            await conn.execute(server_values.insert().values(key="slow", value="x"))
            started.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(slow_write())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for job_id in ids:
        assert (await runtime.engine.complete(job_id, LeaseRef("a"))).job.status is JobStatus.SUCCESS


async def test_presence_is_written_at_most_every_few_seconds_unless_something_changed(
    runtime: Runtime, clock: ManualClock
) -> None:
    async def stored_seen(node_id: str) -> Any:
        async with runtime.db.read() as conn:
            query = sa.select(agent_nodes.c.last_seen_at).where(agent_nodes.c.node_id == node_id)
            return (await conn.execute(query)).scalar_one()

    first = await runtime.engine.node_seen(NodeSighting(kind="k", node_id="n1", owner_id=7, version="1.0"))
    clock.advance(seconds=1)
    again = await runtime.engine.node_seen(NodeSighting(kind="k", node_id="n1", owner_id=7))
    assert again.version == "1.0" and again.owner_id == 7 and runtime.engine.is_online(again)
    assert await stored_seen("n1") == first.last_seen_at
    newer = await runtime.engine.node_seen(NodeSighting(kind="k", node_id="n1", version="1.1"))
    assert newer.version == "1.1" and await stored_seen("n1") == clock.now()
    clock.advance(seconds=30)
    later = await runtime.engine.node_seen(NodeSighting(kind="k", node_id="n1"))
    assert later.last_seen_at == clock.now() == await stored_seen("n1")
    await runtime.engine.node_gone("k", "n1")
    back = await runtime.engine.node_seen(NodeSighting(kind="k", node_id="n1"))
    assert runtime.engine.is_online(back)
    node = await runtime.engine.node("k", "n1")
    assert node is not None and runtime.engine.is_online(node)


async def test_queued_units_commit_together_and_a_failing_one_alone_is_undone(
    sqlite_url: str, clock: ManualClock
) -> None:
    """Group commit is SQLite's single writer: this one runs on SQLite only."""
    async with open_runtime(make_settings(sqlite_url), clock=clock) as runtime:
        await _queued_units_commit_together(runtime)


async def _queued_units_commit_together(runtime: Runtime) -> None:
    db = runtime.db

    def adding(key: str, *, fail: bool = False) -> Any:
        def work(conn: Any) -> int:
            conn.execute(server_values.insert().values(key=key, value="1"))
            if fail:
                raise RuntimeError("refused")
            return id(conn.get_transaction())

        return work

    async with db.write():  # holds the file: the units below queue up behind it
        units = [
            asyncio.ensure_future(db.unit(adding("a"))),
            asyncio.ensure_future(db.unit(adding("refused", fail=True))),
            asyncio.ensure_future(db.unit(adding("b"))),
        ]
        await asyncio.sleep(0)  # one loop turn: every unit is queued before the file is handed back
        assert not any(unit.done() for unit in units)
    first, refused, second = await asyncio.gather(*units, return_exceptions=True)
    assert isinstance(refused, RuntimeError)
    assert first == second  # one transaction, one commit
    async with db.read() as conn:
        keys = set((await conn.execute(sa.select(server_values.c.key))).scalars())
    assert {"a", "b"} <= keys and "refused" not in keys


async def test_owner_queue_leases_by_priority_then_oldest_past_a_later_backlog(
    runtime: Runtime, clock: ManualClock
) -> None:
    mine = JobFilter(kind=KIND, owner_id=5)

    async def add(priority: int, *, later: bool = False, owner: int = 5) -> int:
        scheduled = clock.now() + timedelta(days=1) if later else None
        new = NewJob(kind=KIND, type="t", priority=priority, owner_id=owner, scheduled_at=scheduled)
        job = await runtime.engine.submit(new)
        assert job is not None
        return job.id

    backlog = [await add(90, later=True) for _ in range(30)]
    low = [await add(10) for _ in range(3)]
    high = [await add(70) for _ in range(2)]
    middle = [await add(40) for _ in range(2)]
    other_owner = await add(99, owner=6)
    held = timedelta(days=2)
    first = await runtime.engine.lease(mine, node_id="a", limit=4, lease_for=held)
    assert [j.id for j in first] == high + middle
    rest = await runtime.engine.lease(mine, node_id="a", limit=10, lease_for=held)
    assert [j.id for j in rest] == low
    assert await runtime.engine.lease(mine, node_id="a", limit=10, lease_for=held) == []
    clock.advance(days=1)
    later = await runtime.engine.lease(mine, node_id="a", limit=100, lease_for=LEASE)
    assert [j.id for j in later] == backlog
    assert (await runtime.engine.get(other_owner)).status is JobStatus.PENDING


async def test_a_unit_whose_caller_is_cancelled_still_commits_and_the_writer_goes_on(
    runtime: Runtime,
) -> None:
    """On SQLite a queued unit belongs to the writer: cancelling its caller neither undoes it nor leaves the
    writer stuck on a future nobody reads. (On PostgreSQL a unit runs in its caller's task, so cancelling it
    rolls the transaction back: nothing to check here.)"""
    if not runtime.db.is_sqlite:
        return

    def insert(conn: Any) -> str:
        conn.execute(server_values.insert().values(key="cancelled-caller", value="kept"))
        return "done"

    async with runtime.db.write():  # holds the file: the unit queues behind it
        caller = asyncio.create_task(runtime.db.unit(insert))
        await asyncio.sleep(0)  # one loop turn: the unit is queued
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
    query = sa.select(server_values.c.value).where(server_values.c.key == "cancelled-caller")
    assert await runtime.db.unit(lambda conn: conn.execute(query).scalar_one()) == "kept"
    [job_id] = await leased_jobs(runtime, 1)
    assert (await runtime.engine.complete(job_id, LeaseRef("a"))).job.status is JobStatus.SUCCESS
