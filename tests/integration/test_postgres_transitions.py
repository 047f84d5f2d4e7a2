"""PostgreSQL's short paths (storage/postgres_jobs.py): a transition without a hook reads the job, applies the
rule and writes only if the row is still the version it read, else runs again under the row lock; a poll with
nothing to expire leases in one statement. What they must keep: no lost update, no job leased twice, and the
same outcome as the locked path. The statement counts are the point of these paths, so they are held too."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from asyncpg.transaction import Transaction
from sqlalchemy import event
from sqlalchemy.util import await_only

from agenthub.core.clock import ManualClock
from agenthub.core.jobs import Change, EventDraft, Job, JobFilter, JobStatus, LeaseRef, NewJob
from agenthub.server.runtime import Runtime
from agenthub.server.startup import open_runtime
from agenthub.storage import SqlJobStore
from tests.conftest import make_settings
from tests.support.databases import PostgresTemplate

KIND = "test.pg"
LEASE = timedelta(seconds=90)
QUEUE = JobFilter(kind=KIND)


@pytest.fixture
async def pg(postgres_template: PostgresTemplate, clock: ManualClock) -> AsyncIterator[Runtime]:
    url, name = await postgres_template.fresh()
    try:
        async with open_runtime(make_settings(url), clock=clock) as rt:
            yield rt
    finally:
        await postgres_template.drop(name)


def step(job: Job, now: Any) -> Change:
    """A rule whose result depends on what it read: progress one higher."""
    return Change(replace(job, progress=(job.progress or 0) + 1, updated_at=now), EventDraft("progress"))


async def leased(runtime: Runtime, n: int = 1) -> list[int]:
    for i in range(n):
        await runtime.engine.submit(NewJob(kind=KIND, type="t", payload={"i": i}))
    jobs = await runtime.engine.lease(QUEUE, node_id="a", limit=n, lease_for=LEASE)
    return [job.id for job in jobs]


@contextmanager
def statements(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The statements sent to the database meanwhile, and BEGIN and COMMIT as the driver sends them."""
    sent: list[str] = []
    engine = runtime.db.engine.sync_engine

    def on_execute(*args: Any) -> None:
        sent.append(args[2].lstrip("(").split()[0].upper())

    def recorded(name: str, method: Any) -> Any:
        async def send(self: Any) -> None:
            sent.append(name)
            await method(self)

        return send

    with monkeypatch.context() as patch:
        patch.setattr(Transaction, "start", recorded("BEGIN", Transaction.start))
        patch.setattr(Transaction, "commit", recorded("COMMIT", Transaction.commit))
        event.listen(engine, "before_cursor_execute", on_execute)
        try:
            yield sent
        finally:
            event.remove(engine, "before_cursor_execute", on_execute)


async def test_a_job_changed_between_read_and_write_is_written_again_from_what_is_there(pg: Runtime) -> None:
    [job_id] = await leased(pg)
    store = SqlJobStore(pg.db)
    now = pg.clock.now()
    seen: list[int | None] = []

    def racing(job: Job) -> Change:
        seen.append(job.progress)
        if len(seen) == 1:  # another writer commits after this one read the job
            await_only(store.apply(job_id, lambda j: step(j, now)))
        return step(job, now)

    change = await store.apply(job_id, racing)
    assert seen == [None, 1]  # read again after the other write, not written from the stale read
    assert change.job.progress == 2 and (await pg.engine.get(job_id)).progress == 2
    assert [e.type for e in await pg.engine.events(job_id)] == ["created", "leased", "progress", "progress"]


async def test_concurrent_transitions_of_one_job_lose_no_update(pg: Runtime) -> None:
    [job_id] = await leased(pg)
    store = SqlJobStore(pg.db)
    now = pg.clock.now()
    await asyncio.gather(*(store.apply(job_id, lambda j: step(j, now)) for _ in range(20)))
    assert (await pg.engine.get(job_id)).progress == 20
    events = [e.type for e in await pg.engine.events(job_id)]
    assert events.count("progress") == 20


async def test_a_start_is_one_read_and_one_write_without_a_transaction(
    pg: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    [job_id] = await leased(pg)
    with statements(pg, monkeypatch) as sent:
        change = await pg.engine.start(job_id, LeaseRef("a"), lease_for=LEASE)
    assert change.job.status is JobStatus.RUNNING
    assert sent == ["SELECT", "WITH"]  # the job's UPDATE and its event's INSERT: one statement
    job = await pg.engine.get(job_id)
    assert (job.status, job.started_at, job.payload) == (JobStatus.RUNNING, pg.clock.now(), {"i": 0})


async def test_a_refused_transition_reads_and_writes_nothing(
    pg: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    [job_id] = await leased(pg)
    with statements(pg, monkeypatch) as sent, pytest.raises(Exception, match="lease"):
        await pg.engine.start(job_id, LeaseRef("intruder"), lease_for=LEASE)
    assert sent == ["SELECT"]
    assert [e.type for e in await pg.engine.events(job_id)] == ["created", "leased"]


async def test_a_poll_with_nothing_to_expire_is_two_statements_and_one_with_expiry_is_a_transaction(
    pg: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(3):
        await pg.engine.submit(NewJob(kind=KIND, type="t", payload={"i": i}, priority=i))
    with statements(pg, monkeypatch) as sent:
        first = await pg.engine.lease(QUEUE, node_id="a", limit=2, lease_for=LEASE)
    assert sent == ["SELECT", "WITH"]  # anything to expire? then pick, lease and record in one statement
    assert [j.payload["i"] for j in first] == [2, 1]  # queue order: highest priority first
    assert all(j.status is JobStatus.LEASED and j.leased_by == "a" and j.lease_epoch == 1 for j in first)
    for job in first:
        assert [(e.type, e.node_id) for e in await pg.engine.events(job.id)][-1] == ("leased", "a")

    pg.clock.advance(seconds=LEASE.total_seconds() + 1)  # a's leases lapse
    with statements(pg, monkeypatch) as sent:
        second = await pg.engine.lease(QUEUE, node_id="b", limit=3, lease_for=LEASE)
    assert sent[0] == "SELECT" and "BEGIN" in sent and sent[-1] == "COMMIT"
    assert sorted(j.payload["i"] for j in second) == [0, 1, 2]  # the lapsed two came back to the queue
    assert [j.payload["i"] for j in second] == [2, 1, 0]
    assert all(j.leased_by == "b" and j.lease_epoch == (2 if j.payload["i"] else 1) for j in second)
