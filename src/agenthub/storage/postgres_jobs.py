"""The hot job transitions on PostgreSQL: as few round trips as the rules allow, as plain asyncpg statements.

Every round trip costs CPU on both sides of the socket, and the server's share of it is the throughput of a
replica: through SQLAlchemy each statement cost ~100 us of Python around asyncpg's own work (py-spy: ~20% of
the server's CPU per job in statement compilation, cache keys, parameter and result processing and greenlet
switches). So the transitions run as prepared SQL strings on the pooled connection's asyncpg connection,
with values stored exactly as SQLAlchemy stores them (aware datetimes as timestamptz, JSON as `json.dumps`
text, None in a JSON column as 'null'), and the round trips are cut down:

- Concurrent transitions are applied in batches, one transaction each (postgres_batches.py): the jobs of a
  batch are read and locked in one statement, and its writes are one pipelined statement per shape.
- A lone transition without a protocol hook (start, heartbeat, progress, a push lease) runs optimistically: it
  reads the job with its row version (`xmin`, the transaction that wrote this version of the row), applies
  the core rule in Python, and writes the job and its event in one statement that matches only that row
  version, committed on its own (no BEGIN, no COMMIT): 2 round trips instead of 4. If the row changed in
  between, the statement matches nothing and the caller runs the transition again under a row lock
  (`FOR UPDATE`), where the rule sees the job as it is then. A statement is atomic, so the job and its
  event commit together or not at all.
- A poll is one statement when nothing has to expire (nearly always): whether anything has to, the pick
  (`FOR UPDATE SKIP LOCKED`), the lease and the 'leased' events, committed on its own: 1 round trip instead
  of 8. When something is due, it leases nothing and says so; the caller expires and leases in one
  transaction.
- An update sets only the columns the rule changed (and updated_at): the job's payload is not sent back and
  parsed again on every transition.

The storage guard (`InvalidValue` for integers beyond 64 bits and NUL characters) is applied here too: these
statements do not pass SQLAlchemy's `before_cursor_execute` hook.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy.dialects import postgresql

from agenthub.core.jobs import Change, Job, JobFilter, JobStatus
from agenthub.core.ports import ExpiryRule
from agenthub.storage.database import checked
from agenthub.storage.tables import JOB_MUTABLE, changed_columns, jobs

COLUMNS: tuple[str, ...] = tuple(column.name for column in jobs.c)
_JSON = frozenset({"payload", "result"})
# Each parameter is cast to its column's type, without a length: a value too long for its column is refused
# by the assignment, where a cast to VARCHAR(n) would cut it short without a word.
_PG = postgresql.dialect()  # type: ignore[no-untyped-call]
_CAST = {column.name: column.type.compile(dialect=_PG).split("(")[0] for column in jobs.c}
_SELECT = "SELECT " + ", ".join(COLUMNS) + " FROM jobs"
_LOAD_VERSIONED = "SELECT xmin::text, " + ", ".join(COLUMNS) + " FROM jobs WHERE id = $1"
_LOAD_MANY_LOCKED = _SELECT + " WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE"
_LOAD_MANY_FREE = _SELECT + " WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE SKIP LOCKED"
_NOT_DISABLED = "NOT EXISTS (SELECT 1 FROM agent_nodes WHERE node_id = {} AND disabled_at IS NOT NULL)"
_DISABLED_AMONG = (
    "SELECT DISTINCT node_id FROM agent_nodes WHERE node_id = ANY($1::varchar[]) AND disabled_at IS NOT NULL"
)
_HELD = "status IN ('leased', 'running')"
_ACTIVE = "status IN ('pending', 'leased', 'running')"


def _lapsed(now: str) -> str:
    return f"SELECT id FROM jobs WHERE {_HELD} AND lease_until < {now}::timestamptz"


def _overdue(now: str) -> str:
    return f"SELECT id FROM jobs WHERE deadline <= {now}::timestamptz AND {_ACTIVE}"


_LAPSED = _lapsed("$1") + " LIMIT $2"
_OVERDUE = _overdue("$1") + " LIMIT $2"
# Whether any lease or deadline has run out at $2 (two index probes), inside the guarded lease statement.
_DUE_NOW = f"EXISTS ({_lapsed('$2')}) OR EXISTS ({_overdue('$2')})"


def job_from(record: Sequence[Any]) -> Job:
    """A job from a row of COLUMNS (the Job's fields by name; asyncpg already gives aware datetimes, and JSON
    as Python values through the codec SQLAlchemy sets on each connection)."""
    fields = dict(zip(COLUMNS, record, strict=True))
    fields["status"] = JobStatus(fields["status"])
    fields["payload"] = fields["payload"] or {}
    return Job(**fields)


def _stored(name: str, value: Any) -> Any:
    if name in _JSON:
        return json.dumps(value)
    if isinstance(value, JobStatus):
        return value.value
    return value


async def disabled_nodes(conn: asyncpg.Connection, node_ids: set[str]) -> set[str]:
    """Which of these node ids an operator disabled (on a node of any kind)."""
    ids = sorted(node_ids)
    checked(ids)
    return {record[0] for record in await conn.fetch(_DISABLED_AMONG, ids)}


async def load_versioned(conn: asyncpg.Connection, job_id: int) -> tuple[Job, str] | None:
    """The job as last committed, and its row version; None when there is no such job."""
    record = await conn.fetchrow(_LOAD_VERSIONED, *checked((job_id,)))
    if record is None:
        return None
    version, *row = record
    return job_from(row), version


async def load_many_locked(conn: asyncpg.Connection, job_ids: list[int]) -> dict[int, Job]:
    """The jobs of these ids that exist, by id, locked until the end of the transaction, in id order (so two
    transactions locking several jobs never wait on each other in a circle)."""
    ids = sorted(set(job_ids))
    checked(ids)
    return {job.id: job for job in map(job_from, await conn.fetch(_LOAD_MANY_LOCKED, ids))}


async def write_many(conn: asyncpg.Connection, changes: list[tuple[Change, Job]]) -> None:
    """Writes each (change, job it was made from) with its event, inside the caller's transaction, the rows
    locked: one pipelined statement per set of changed columns."""
    shapes: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for change, before in changes:
        names, params = _write_params(change, before)
        shapes.setdefault(names, []).append(params)
    for names, rows in shapes.items():
        statement = _update_with_event(names, versioned=False, lessee=False)
        if len(rows) == 1:
            await conn.execute(statement, *rows[0])
        else:
            await conn.executemany(statement, rows)


def _write_params(change: Change, before: Job | None) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    """The columns to set (those the rule changed, and updated_at) and the statement's parameters, checked."""
    job, event = change.job, change.event
    assert event is not None
    names = JOB_MUTABLE if before is None else changed_columns(job, before)
    if "updated_at" not in names:  # always: the row gets a new version, so a racing writer sees the change
        names = (*names, "updated_at")
    params = [_stored(name, getattr(job, name)) for name in names]
    params += [job.id, event.type, event.node_id, event.message, event.error_code]
    params += [json.dumps(event.data), job.updated_at]
    return names, checked(params)


async def write(
    conn: asyncpg.Connection,
    change: Change,
    *,
    before: Job | None = None,
    version: str | None = None,
    lessee: str | None = None,
) -> bool:
    """Writes the job as the rule left it, and its event, in one statement. With the row `version` read
    before, only if the row is still at that version (and, with a `lessee`, only if that node is not
    disabled); False when it was not written."""
    names, params = _write_params(change, before)
    conditions = checked(value for value in (version, lessee) if value is not None)
    statement = _update_with_event(names, versioned=version is not None, lessee=lessee is not None)
    return await conn.fetchval(statement, *params, *conditions) is not None


@functools.lru_cache(maxsize=128)
def _update_with_event(names: tuple[str, ...], *, versioned: bool, lessee: bool) -> str:
    """UPDATE jobs ... RETURNING id, as a CTE the event's INSERT selects from: no job row, no event."""
    sets = ", ".join(f"{name} = ${i}::{_CAST[name]}" for i, name in enumerate(names, 1))
    n = len(names)
    where = [f"id = ${n + 1}::bigint"]
    extra = n + 8
    if versioned:
        where.append(f"xmin::text = ${extra}")
        extra += 1
    if lessee:
        where.append(_NOT_DISABLED.format(f"${extra}::varchar"))
    event = (
        f"${n + 2}::varchar, ${n + 3}::varchar, ${n + 4}::text, ${n + 5}::varchar, ${n + 6}::jsonb, "
        f"${n + 7}::timestamptz"
    )
    return (
        f"WITH updated AS (UPDATE jobs SET {sets} WHERE {' AND '.join(where)} RETURNING id) "
        "INSERT INTO job_events (job_id, type, node_id, message, error_code, data, created_at) "
        f"SELECT id, {event} FROM updated RETURNING id"
    )


async def expire(conn: asyncpg.Connection, rule: ExpiryRule, *, now: datetime, limit: int) -> list[Change]:
    """Lapsed leases and overdue jobs through the expiry rule, inside the caller's transaction; jobs another
    transaction holds are left for the next round (SKIP LOCKED)."""
    lapsed = await conn.fetch(_LAPSED, now, limit)
    overdue = await conn.fetch(_OVERDUE, now, limit)
    ids = sorted({r[0] for r in lapsed} | {r[0] for r in overdue})
    if not ids:
        return []
    writes: list[tuple[Change, Job]] = []
    for job in map(job_from, await conn.fetch(_LOAD_MANY_FREE, ids)):
        change = rule(job, now)
        if change.event is not None:
            writes.append((change, job))
    await write_many(conn, writes)
    return [change for change, _job in writes]


async def lease(
    conn: asyncpg.Connection,
    job_filter: JobFilter,
    *,
    node_id: str,
    limit: int,
    now: datetime,
    lease_until: datetime,
    unless_due: bool = False,
) -> list[Job] | None:
    """Leases up to `limit` due jobs to the node in one statement (nothing to a disabled node), in queue
    order. `unless_due`: unless a lease or a deadline has run out (two index probes in that statement); then
    it leases nothing and answers None, for the caller to expire first. Without it, never None."""
    statement = _lease_statement(
        owner=job_filter.owner_id is not None,
        types=bool(job_filter.types),
        node=job_filter.node_id is not None,
        guarded=unless_due,
    )
    params: list[Any] = [job_filter.kind, now, node_id, limit, lease_until]
    if job_filter.owner_id is not None:
        params.append(job_filter.owner_id)
    if job_filter.types:
        params.append(list(job_filter.types))
    if job_filter.node_id is not None:
        params.append(job_filter.node_id)
    checked((*params, *(job_filter.types or ())))
    records = await conn.fetch(statement, *params)
    if unless_due:
        if records and records[0]["due"]:
            return None
        records = [record[:-1] for record in records]
    leased = [job_from(record) for record in records]
    return sorted(leased, key=lambda j: (-j.priority, j.scheduled_at, j.id))


@functools.lru_cache(maxsize=32)
def _lease_statement(*, owner: bool, types: bool, node: bool, guarded: bool = False) -> str:
    """Pick (SKIP LOCKED), lease and record, for one shape of job filter. $1 kind, $2 now, $3 the node,
    $4 limit, $5 lease until, then the filter's owner, types and target node as present. Guarded: nothing
    is picked when a lease or deadline has run out, and the answer is then one row whose last column (`due`)
    is true; otherwise every row's is false."""
    where = [
        "kind = $1::varchar",
        "status = 'pending'",
        "scheduled_at <= $2::timestamptz",
        _NOT_DISABLED.format("$3::varchar"),
    ]
    if guarded:
        where.append("NOT (SELECT due FROM due)")
    n = 6
    if owner:
        where.append(f"owner_id = ${n}::bigint")
        n += 1
    if types:
        where.append(f"type = ANY(${n}::varchar[])")
        n += 1
    if node:
        where.append(f"(target_node IS NULL OR target_node = ${n}::varchar)")
    columns = ", ".join(f"jobs.{name}" for name in COLUMNS)
    names = ", ".join(COLUMNS)
    due, answer = "", f"SELECT {names} FROM leased"
    if guarded:
        due = f"due AS MATERIALIZED (SELECT {_DUE_NOW} AS due), "
        nulls = ", ".join(["NULL"] * len(COLUMNS))
        answer = f"SELECT {names}, false AS due FROM leased UNION ALL SELECT {nulls}, true FROM due WHERE due"
    return (
        f"WITH {due}picked AS (SELECT id FROM jobs WHERE {' AND '.join(where)} "
        "ORDER BY priority DESC, scheduled_at, id LIMIT $4::int FOR UPDATE SKIP LOCKED), "
        "leased AS (UPDATE jobs SET status = 'leased', leased_by = $3::varchar, "
        "lease_epoch = jobs.lease_epoch + 1, lease_until = $5::timestamptz, updated_at = $2::timestamptz "
        f"FROM picked WHERE jobs.id = picked.id RETURNING {columns}), "
        "events AS (INSERT INTO job_events (job_id, type, node_id, created_at) "
        "SELECT id, 'leased', $3::varchar, $2::timestamptz FROM leased) " + answer
    )
