"""PostgreSQL's short paths (storage/postgres_jobs.py): a transition without a hook reads the job, applies the
rule and writes only if the row is still the version it read, else runs again under the row lock; a poll with
nothing to expire leases in one statement. What they must keep: no lost update, no job leased twice, and the
same outcome as the locked path. The statement counts are the point of these paths, so they are held too."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa

from agenthub.core.errors import InvalidTransition, JobNotFound, StorageUnavailable
from agenthub.core.jobs import Change, EventDraft, Job, JobFilter, JobStatus, LeaseRef, NewJob
from agenthub.core.nodes import NodeSighting
from agenthub.server.runtime import Runtime
from agenthub.storage import SqlJobStore, postgres_jobs
from tests.support.services import POSTGRES_URL, _asyncpg_dsn

KIND = "test.pg"
LEASE = timedelta(seconds=90)
QUEUE = JobFilter(kind=KIND)


def step(job: Job, now: Any) -> Change:
    """A rule whose result depends on what it read: progress one higher."""
    return Change(replace(job, progress=(job.progress or 0) + 1, updated_at=now), EventDraft("progress"))


async def leased(runtime: Runtime, n: int = 1) -> list[int]:
    for i in range(n):
        await runtime.engine.submit(NewJob(kind=KIND, type="t", payload={"i": i}))
    jobs = await runtime.engine.lease(QUEUE, node_id="a", limit=n, lease_for=LEASE)
    return [job.id for job in jobs]


@contextmanager
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The first word of each statement asyncpg sends meanwhile (BEGIN and COMMIT included: asyncpg's
    transactions send them through `execute`)."""
    sent: list[str] = []

    def recorded(method: Any) -> Any:
        async def send(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            sent.append(query.lstrip("(").split()[0].upper().rstrip(";"))
            return await method(self, query, *args, **kwargs)

        return send

    with monkeypatch.context() as patch:
        for name in ("execute", "executemany", "fetch", "fetchrow", "fetchval"):
            patch.setattr(asyncpg.Connection, name, recorded(getattr(asyncpg.Connection, name)))
        yield sent


async def test_a_job_changed_between_read_and_write_is_written_again_from_what_is_there(
    pg: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    [job_id] = await leased(pg)
    store, other = SqlJobStore(pg.db), SqlJobStore(pg.db)  # as two replicas
    now = pg.clock.now()
    read = postgres_jobs.load_versioned

    async def read_then_race(conn: Any, job_id: int) -> Any:
        loaded = await read(conn, job_id)
        if not seen:  # another writer commits after this one read the job, before it writes
            monkeypatch.setattr(postgres_jobs, "load_versioned", read)
            await other.apply(job_id, lambda j: step(j, now))
        return loaded

    seen: list[int | None] = []

    def counting(job: Job) -> Change:
        seen.append(job.progress)
        return step(job, now)

    monkeypatch.setattr(postgres_jobs, "load_versioned", read_then_race)
    change = await store.apply(job_id, counting)
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
    with statements(monkeypatch) as sent:
        change = await pg.engine.start(job_id, LeaseRef("a"), lease_for=LEASE)
    assert change.job.status is JobStatus.RUNNING
    assert sent == ["SELECT", "WITH"]  # the job's UPDATE and its event's INSERT: one statement
    job = await pg.engine.get(job_id)
    assert (job.status, job.started_at, job.payload) == (JobStatus.RUNNING, pg.clock.now(), {"i": 0})


async def test_a_refused_transition_reads_and_writes_nothing(
    pg: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    [job_id] = await leased(pg)
    with statements(monkeypatch) as sent, pytest.raises(Exception, match="lease"):
        await pg.engine.start(job_id, LeaseRef("intruder"), lease_for=LEASE)
    assert sent == ["SELECT"]
    assert [e.type for e in await pg.engine.events(job_id)] == ["created", "leased"]


async def test_a_poll_with_nothing_to_expire_is_one_statement_and_one_with_expiry_is_a_transaction(
    pg: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(3):
        await pg.engine.submit(NewJob(kind=KIND, type="t", payload={"i": i}, priority=i))
    with statements(monkeypatch) as sent:
        first = await pg.engine.lease(QUEUE, node_id="a", limit=2, lease_for=LEASE)
    assert sent == ["WITH"]  # anything to expire? if not, pick, lease and record: one statement
    assert [j.payload["i"] for j in first] == [2, 1]  # queue order: highest priority first
    assert all(j.status is JobStatus.LEASED and j.leased_by == "a" and j.lease_epoch == 1 for j in first)
    for job in first:
        assert [(e.type, e.node_id) for e in await pg.engine.events(job.id)][-1] == ("leased", "a")

    pg.clock.advance(seconds=LEASE.total_seconds() + 1)  # a's leases lapse
    with statements(monkeypatch) as sent:
        second = await pg.engine.lease(QUEUE, node_id="b", limit=3, lease_for=LEASE)
    assert sent[:2] == ["WITH", "BEGIN"] and sent[-1] == "COMMIT"  # nothing leased: expire first
    assert sorted(j.payload["i"] for j in second) == [0, 1, 2]  # the lapsed two came back to the queue
    assert [j.payload["i"] for j in second] == [2, 1, 0]
    assert all(j.leased_by == "b" and j.lease_epoch == (2 if j.payload["i"] else 1) for j in second)


async def test_a_lost_connection_fails_one_call_and_the_next_one_reconnects(pg: Runtime) -> None:
    [job_id] = await leased(pg)
    database = pg.db.engine.url.database
    admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL))
    try:  # a server restart, as the pool sees it: every connection it holds is gone
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
    finally:
        await admin.close()
    with pytest.raises(StorageUnavailable):
        await pg.engine.start(job_id, LeaseRef("a"), lease_for=LEASE)
    change = await pg.engine.start(job_id, LeaseRef("a"), lease_for=LEASE)
    assert change.job.status is JobStatus.RUNNING
    assert [e.type for e in await pg.engine.events(job_id)] == ["created", "leased", "start"]


async def test_a_batch_cancelled_inside_its_transaction_leaves_no_lock_and_no_change(
    pg: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a stopping server does to a batch in flight: its callers hear the cancel, and the transaction is
    rolled back, its connection never reused with the row still locked."""
    [job_id] = await leased(pg)
    store = SqlJobStore(pg.db)
    now = pg.clock.now()
    inside, never = asyncio.Event(), asyncio.Event()
    write_many = postgres_jobs.write_many

    async def stalled(*args: Any, **kwargs: Any) -> None:
        inside.set()  # the row is locked now
        await never.wait()

    monkeypatch.setattr(postgres_jobs, "write_many", stalled)
    caller = asyncio.create_task(store.apply(job_id, lambda j: step(j, now), hook=noop_hook))
    await inside.wait()
    assert store._batches is not None
    [runner] = store._batches._lanes[True].running  # the batch of transitions with hooks
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    monkeypatch.setattr(postgres_jobs, "write_many", write_many)
    # The row is not left locked (this would wait for ever) and nothing of the cancelled batch was written.
    change = await asyncio.wait_for(store.apply(job_id, lambda j: step(j, now), hook=noop_hook), timeout=10)
    assert change.job.progress == 1
    assert [e.type for e in await pg.engine.events(job_id)] == ["created", "leased", "progress"]


async def test_a_caller_cancelled_while_its_batch_runs_still_commits_and_one_cancelled_before_does_not(
    pg: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = await leased(pg, 2)
    store = SqlJobStore(pg.db)
    now = pg.clock.now()
    inside, release = asyncio.Event(), asyncio.Event()
    write_many = postgres_jobs.write_many

    async def held(*args: Any, **kwargs: Any) -> None:
        inside.set()
        await release.wait()
        await write_many(*args, **kwargs)

    monkeypatch.setattr(postgres_jobs, "write_many", held)
    running = asyncio.create_task(store.apply(first, lambda j: step(j, now), hook=noop_hook))
    await inside.wait()
    waiting = asyncio.create_task(store.apply(second, lambda j: step(j, now), hook=noop_hook))
    await asyncio.sleep(0)  # queued behind the running batch
    running.cancel()
    waiting.cancel()
    release.set()
    for task in (running, waiting):
        with pytest.raises(asyncio.CancelledError):
            await task
    # Once in a batch a transition commits with it (as on SQLite's writer); one still queued is dropped.
    after = await asyncio.wait_for(store.apply(second, lambda j: step(j, now)), timeout=10)
    assert (await pg.engine.get(first)).progress == 1
    assert after.job.progress == 1
    assert [e.type for e in await pg.engine.events(first)] == ["created", "leased", "progress"]


async def noop_hook(_conn: Any, _change: Change) -> None:
    return None


async def test_concurrent_transitions_of_different_jobs_commit_in_one_transaction(
    pg: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await leased(pg, 10)
    store = SqlJobStore(pg.db)
    now = pg.clock.now()
    hooked: list[int] = []

    async def hook(conn: Any, change: Change) -> None:
        hooked.append(change.job.id)
        await conn.execute(sa.text("SELECT 1"))

    with statements(monkeypatch) as sent:
        changes = await asyncio.gather(*(store.apply(i, lambda j: step(j, now), hook=hook) for i in ids))
    assert [c.job.id for c in changes] == ids and all(c.job.progress == 1 for c in changes)
    assert hooked == ids  # inside the batch's transaction (by subject: these have none, so as they came)
    # BEGIN, one locked read of the ten, one pipelined write, COMMIT (the hooks go through SQLAlchemy).
    assert sent == ["BEGIN", "SELECT", "WITH", "COMMIT"]
    for job_id in ids:
        assert (await pg.engine.get(job_id)).progress == 1
        assert [e.type for e in await pg.engine.events(job_id)] == ["created", "leased", "progress"]


async def test_in_a_batch_each_caller_hears_its_own_refusal_and_the_others_commit(pg: Runtime) -> None:
    ids = await leased(pg, 4)
    store = SqlJobStore(pg.db)
    now = pg.clock.now()
    await pg.engine.node_seen(NodeSighting(kind="test.node", node_id="off"))
    await pg.engine.set_node_disabled("test.node", "off", disabled=True, operator="root")

    def refused(job: Job) -> Change:
        raise InvalidTransition(job.id, job.status.value, "step")

    outcomes = await asyncio.gather(
        store.apply(ids[0], lambda j: step(j, now)),
        store.apply(ids[1], refused),
        store.apply(10**9, lambda j: step(j, now)),
        store.apply(ids[2], lambda j: step(j, now), lessee="on"),
        store.apply(ids[3], lambda j: step(j, now), lessee="off"),
        return_exceptions=True,
    )
    assert isinstance(outcomes[0], Change) and outcomes[0].job.progress == 1
    assert isinstance(outcomes[1], InvalidTransition) and "cannot step" in str(outcomes[1])
    assert isinstance(outcomes[2], JobNotFound)
    assert isinstance(outcomes[3], Change)  # a lessee no operator disabled
    assert isinstance(outcomes[4], InvalidTransition) and "disabled node off" in str(outcomes[4])
    assert [(await pg.engine.get(i)).progress for i in ids] == [1, None, 1, None]


async def test_a_hook_that_fails_in_a_batch_fails_only_its_own_caller(pg: Runtime) -> None:
    ids = await leased(pg, 4)
    store = SqlJobStore(pg.db)
    now = pg.clock.now()

    async def failing(conn: Any, change: Change) -> None:
        await conn.execute(sa.text("SELECT 1/0"))  # aborts the batch's transaction

    outcomes = await asyncio.gather(
        *(store.apply(i, lambda j: step(j, now), hook=failing if i == ids[1] else noop_hook) for i in ids),
        return_exceptions=True,
    )
    assert [isinstance(o, Change) for o in outcomes] == [True, False, True, True]
    assert not isinstance(outcomes[1], Change) and "division by zero" in str(outcomes[1])
    assert [(await pg.engine.get(i)).progress for i in ids] == [1, None, 1, 1]
    assert [e.type for e in await pg.engine.events(ids[1])] == ["created", "leased"]


async def test_a_batch_runs_its_hooks_by_subject_so_batches_lock_subjects_in_one_order(pg: Runtime) -> None:
    for subject in (3, 1, 2):
        await pg.engine.submit(NewJob(kind=KIND, type="t", subject_id=subject))
    ids = [job.id for job in await pg.engine.lease(QUEUE, node_id="a", limit=3, lease_for=LEASE)]
    store = SqlJobStore(pg.db)
    now = pg.clock.now()
    subjects: list[int | None] = []

    async def hook(_conn: Any, change: Change) -> None:
        subjects.append(change.job.subject_id)

    await asyncio.gather(*(store.apply(i, lambda j: step(j, now), hook=hook) for i in ids))
    assert subjects == [1, 2, 3]
