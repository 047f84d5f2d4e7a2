"""A lease walks the queue index in its order, whatever the database believes about the table.

A queue table spends most of its life with few pending jobs, and that is what its statistics say when a burst
arrives. PostgreSQL's planner then read every pending job through another index and sorted them all, on every
lease (15,000 pending: 4-10 ms a lease instead of 0.1 ms); the same statement on an ordinary connection of
the test below still does. The lease connections may not sort (storage/database.py), and the queue index
(ix_jobs_queue) is the one path in the lease's order. Plans, not timings: what the database says it does."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

from agenthub.core.jobs import JobFilter
from agenthub.server.runtime import Runtime
from agenthub.storage import postgres_jobs, sqlite_jobs

KIND = "test.queue"
# $1 kind, $2 status, $3 how many, $4 when they were due; owners 1 to 3, priorities 0 and 1
_INSERT = (
    "INSERT INTO jobs (kind, type, status, owner_id, target_node, payload, priority, scheduled_at, attempts, "
    "max_attempts, lease_epoch, created_at, updated_at) "
    "SELECT $1, 't', $2, 1 + i % 3, NULL, '{}', i % 2, $4, 0, 3, 0, $4, $4 "
    "FROM generate_series(1, $3) AS i"
)


async def _plan(runtime: Runtime, statement: str, *params: Any) -> str:
    async with runtime.db.postgres(lease=True) as (_conn, raw):
        return "\n".join(row[0] for row in await raw.fetch("EXPLAIN " + statement, *params))


async def test_a_burst_after_statistics_that_say_pending_is_rare_is_leased_in_index_order(
    pg: Runtime,
) -> None:
    now = pg.engine.clock.now()
    async with pg.db.postgres() as (_conn, raw):
        await raw.execute(_INSERT, KIND, "success", 20_000, now - timedelta(days=1))
        await raw.execute("ANALYZE jobs")
        await raw.execute(_INSERT, KIND, "pending", 5_000, now - timedelta(minutes=1))  # not yet sampled
    until = now + timedelta(seconds=90)
    lease = postgres_jobs._lease_statement(owner=True, types=False, node=False, guarded=True)
    params = (KIND, now, "n1", 10, until, 1)

    plan = await _plan(pg, lease, *params)
    assert "ix_jobs_queue" in plan and "Sort" not in plan, plan

    # And the lease itself takes the queue's head: the best priority, then the oldest.
    leased = await pg.engine.lease(
        JobFilter(kind=KIND, owner_id=1), node_id="n1", limit=3, lease_for=timedelta(seconds=90)
    )
    async with pg.db.postgres() as (_conn, raw):
        head = await raw.fetch(
            "SELECT id FROM jobs WHERE kind = $1 AND owner_id = 1 AND status IN ('pending', 'leased') "
            "ORDER BY priority DESC, scheduled_at, id LIMIT 3",
            KIND,
        )
    assert len(leased) == 3
    assert [job.id for job in leased] == [row[0] for row in head]


def test_sqlite_leases_walk_the_queue_index(sqlite_url: str) -> None:
    sent: list[str] = []
    with contextlib.closing(sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))) as conn:
        conn.execute(
            "INSERT INTO jobs (kind, type, status, owner_id, payload, priority, scheduled_at, attempts, "
            "max_attempts, lease_epoch, created_at, updated_at) "
            "VALUES (?, 't', 'pending', 1, '{}', 0, '2020-01-01', 0, 3, 0, '2020-01-01', '2020-01-01')",
            (KIND,),
        )
        conn.set_trace_callback(sent.append)  # the statements as run, their values in place
        job_filter = JobFilter(kind=KIND, owner_id=1)
        assert sqlite_jobs.due_by_priority(conn, job_filter, now=datetime.now(UTC), limit=10)
        conn.set_trace_callback(None)
        assert sent
        for statement in sent:
            plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + statement)]
            assert any("INDEX ix_jobs_queue " in step for step in plan), (statement, plan)
            assert not any("TEMP B-TREE" in step for step in plan), (statement, plan)
