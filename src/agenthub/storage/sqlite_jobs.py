"""The hot job transitions on SQLite in plain sqlite3 statements, on the writer's own connection.

Every agent call that moves a job (start, heartbeat, complete, fail, a lease) runs load -> rule -> update ->
event in the single writer. Through SQLAlchemy each statement cost ~60-150 us of Python (statement
cache key, parameter and result processors, events) around ~10 us of SQLite: the writer, which every
write waits for, spent most of its time there (measured: 0.47 ms CPU per unit, 5.8 statements). Here the
same statements are prepared strings run on the same DBAPI connection, inside the same transaction and
savepoint as the rest of the unit, with the values stored exactly as SQLAlchemy stores them (UTC datetimes as
"YYYY-MM-DD HH:MM:SS.ffffff" text, JSON as `json.dumps` text, None in a JSON column as 'null'), so both
paths read each other's rows (tests/unit/storage/test_sqlite_jobs.py holds them to that).

The storage guard (`InvalidValue` for integers beyond 64 bits and NUL characters) is applied here too: these
statements do not pass SQLAlchemy's `before_cursor_execute` hook.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from agenthub.core.jobs import Change, Job, JobFilter, JobStatus
from agenthub.core.ports import ExpiryRule
from agenthub.storage.database import checked
from agenthub.storage.tables import JOB_MUTABLE, changed_columns, jobs

COLUMNS: tuple[str, ...] = tuple(column.name for column in jobs.c)
_JSON = frozenset({"payload", "result"})
_DATETIMES = frozenset(
    {"scheduled_at", "lease_until", "deadline", "started_at", "finished_at", "created_at", "updated_at"}
)
_SELECT = "SELECT " + ", ".join(COLUMNS) + " FROM jobs"
_LOAD = _SELECT + " WHERE id = ?"
_ADD_EVENT = (
    "INSERT INTO job_events (job_id, type, node_id, message, error_code, data, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def dbapi(conn: Connection) -> sqlite3.Connection:
    """The sqlite3 connection under a SQLAlchemy connection (same transaction, same savepoints)."""
    raw: Any = conn.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    return raw


def stored_time(value: datetime | None) -> str | None:
    """A datetime as SQLAlchemy stores it on SQLite: naive UTC text, always with microseconds."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
    v = value.astimezone(UTC).replace(tzinfo=None)
    text = v.isoformat(" ")
    return text if v.microsecond else text + ".000000"  # isoformat leaves out a zero fraction


def stored_json(value: Any) -> str:
    return json.dumps(value)


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def job_from(row: Sequence[Any]) -> Job:
    (
        id_,
        kind,
        type_,
        status,
        owner_id,
        subject_id,
        external_id,
        target_node,
        dedupe_key,
        payload,
        priority,
        scheduled_at,
        attempts,
        max_attempts,
        leased_by,
        lease_epoch,
        lease_until,
        deadline,
        started_at,
        finished_at,
        progress,
        result,
        error_code,
        message,
        created_at,
        updated_at,
    ) = row  # in the table's column order (COLUMNS); test_a_job_reads_back_the_same_whichever_path_wrote_it
    # compares every field with SQLAlchemy's reading of the same row
    return Job(
        id=id_,
        kind=kind,
        type=type_,
        status=JobStatus(status),
        payload=_json(payload) or {},
        priority=priority,
        scheduled_at=_time(scheduled_at),  # type: ignore[arg-type]  # NOT NULL
        attempts=attempts,
        max_attempts=max_attempts,
        created_at=_time(created_at),  # type: ignore[arg-type]  # NOT NULL
        updated_at=_time(updated_at),  # type: ignore[arg-type]  # NOT NULL
        owner_id=owner_id,
        subject_id=subject_id,
        external_id=external_id,
        target_node=target_node,
        dedupe_key=dedupe_key,
        leased_by=leased_by,
        lease_epoch=lease_epoch,
        lease_until=_time(lease_until),
        deadline=_time(deadline),
        started_at=_time(started_at),
        finished_at=_time(finished_at),
        progress=progress,
        result=_json(result),
        error_code=error_code,
        message=message,
    )


def _stored(name: str, value: Any) -> Any:
    if name in _JSON:
        return stored_json(value)
    if name in _DATETIMES:
        return stored_time(value)
    if isinstance(value, JobStatus):
        return value.value
    return value


# What a new job is inserted with (the rest starts NULL).
NEW_JOB_COLUMNS: tuple[str, ...] = (
    "kind",
    "type",
    "status",
    "payload",
    "priority",
    "scheduled_at",
    "attempts",
    "max_attempts",
    "owner_id",
    "subject_id",
    "external_id",
    "target_node",
    "dedupe_key",
    "deadline",
    "lease_epoch",
    "created_at",
    "updated_at",
)
_INSERT = f"INSERT INTO jobs ({', '.join(NEW_JOB_COLUMNS)}) VALUES ({', '.join('?' * len(NEW_JOB_COLUMNS))})"
_RETURNING = " RETURNING " + ", ".join(COLUMNS)


def insert(conn: sqlite3.Connection, values: dict[str, Any], *, once: bool) -> Job | None:
    """Inserts a job and its 'created' event; with `once`, None (and nothing written) when its dedupe key
    is taken."""
    conflict = " ON CONFLICT (dedupe_key) DO NOTHING" if once else ""
    params = checked(_stored(name, values[name]) for name in NEW_JOB_COLUMNS)
    row = conn.execute(_INSERT + conflict + _RETURNING, params).fetchone()
    if row is None:
        return None
    job = job_from(row)
    conn.execute(
        _ADD_EVENT, checked((job.id, "created", None, None, None, None, stored_time(job.created_at)))
    )
    return job


def node_disabled(conn: sqlite3.Connection, node_id: str) -> bool:
    """Whether an operator disabled a node of this id (of any kind)."""
    query = "SELECT 1 FROM agent_nodes WHERE node_id = ? AND disabled_at IS NOT NULL LIMIT 1"
    return conn.execute(query, checked((node_id,))).fetchone() is not None


def load(conn: sqlite3.Connection, job_id: int) -> Job | None:
    row = conn.execute(_LOAD, (job_id,)).fetchone()
    return job_from(row) if row is not None else None


def load_many(conn: sqlite3.Connection, ids: Sequence[int]) -> list[Job]:
    """The jobs with these ids, in id order."""
    if not ids:
        return []
    marks = ", ".join("?" * len(ids))
    rows = conn.execute(f"{_SELECT} WHERE id IN ({marks}) ORDER BY id", tuple(ids)).fetchall()
    return [job_from(row) for row in rows]


def write(conn: sqlite3.Connection, change: Change, *, before: Job | None = None) -> None:
    """The job as the rule left it, and its event. Given the job as it was loaded, only the columns the rule
    changed are set: fewer values to convert, and SQLite leaves the indexes of the others alone."""
    job, event = change.job, change.event
    assert event is not None
    names = JOB_MUTABLE if before is None else changed_columns(job, before)
    if names:
        params = checked([*(_stored(name, getattr(job, name)) for name in names), job.id])
        conn.execute(_update_of(names), params)
    conn.execute(
        _ADD_EVENT,
        checked(
            (
                job.id,
                event.type,
                event.node_id,
                event.message,
                event.error_code,
                stored_json(event.data),
                stored_time(job.updated_at),
            )
        ),
    )


@functools.lru_cache(maxsize=256)
def _update_of(names: tuple[str, ...]) -> str:
    return "UPDATE jobs SET " + ", ".join(f"{name} = ?" for name in names) + " WHERE id = ?"


def expire(conn: sqlite3.Connection, rule: ExpiryRule, *, now: datetime, limit: int) -> list[Change]:
    """Lapsed leases and overdue jobs through the expiry rule: two index probes when nothing is due."""
    at = stored_time(now)
    lapsed = conn.execute(_LAPSED, (at, limit)).fetchall()
    overdue = conn.execute(_OVERDUE, (at, limit)).fetchall()
    ids = sorted({row[0] for row in lapsed} | {row[0] for row in overdue})
    changes: list[Change] = []
    for job in load_many(conn, ids):
        change = rule(job, now)
        if change.event is not None:
            write(conn, change, before=job)
            changes.append(change)
    return changes


_LAPSED = "SELECT id FROM jobs WHERE status IN ('leased', 'running') AND lease_until < ? LIMIT ?"
_OVERDUE = "SELECT id FROM jobs WHERE deadline <= ? AND status IN ('pending', 'leased', 'running') LIMIT ?"


def due_by_priority(
    conn: sqlite3.Connection, job_filter: JobFilter, *, now: datetime, limit: int
) -> list[int]:
    """The due jobs to lease, priority by priority (owner-scoped queues).

    One `ORDER BY priority DESC, scheduled_at` query walks the queue index until it has `limit` due jobs:
    with fewer due than that and a large backlog scheduled for later, it walks the whole backlog
    (milliseconds per poll, on the one writer). Asking per priority present (an index seek each) keeps every
    step a range of due jobs only: O(priorities + due), in-process, no round trips."""
    scope, params = _scope(job_filter)
    pending = f"SELECT max(priority) FROM jobs WHERE {scope} AND status = 'pending'"
    lower = pending + " AND priority < ?"
    due = (
        f"SELECT id FROM jobs WHERE {scope} AND status = 'pending' AND scheduled_at <= ? AND priority = ? "
        "ORDER BY scheduled_at, id LIMIT ?"
    )
    at = stored_time(now)
    ids: list[int] = []
    priority = conn.execute(pending, params).fetchone()[0]
    while priority is not None and len(ids) < limit:
        ids += [row[0] for row in conn.execute(due, (*params, at, priority, limit - len(ids)))]
        priority = conn.execute(lower, (*params, priority)).fetchone()[0]
    return ids


def lease_ids(
    conn: sqlite3.Connection, ids: Sequence[int], *, node_id: str, now: datetime, lease_until: datetime
) -> list[Job]:
    """Leases the given pending jobs to the node (core.rules.lease for a batch), in the order given."""
    marks = ", ".join("?" * len(ids))
    at = stored_time(now)
    rows = conn.execute(
        "UPDATE jobs SET status = 'leased', leased_by = ?, lease_epoch = lease_epoch + 1, lease_until = ?, "
        f"updated_at = ? WHERE id IN ({marks}) RETURNING " + ", ".join(COLUMNS),
        checked((node_id, stored_time(lease_until), at, *ids)),
    ).fetchall()
    order = {job_id: i for i, job_id in enumerate(ids)}
    leased = sorted((job_from(row) for row in rows), key=lambda job: order[job.id])
    conn.executemany(_ADD_EVENT, [(job.id, "leased", node_id, None, None, None, at) for job in leased])
    return leased


def _scope(job_filter: JobFilter) -> tuple[str, tuple[Any, ...]]:
    clauses: list[str] = ["kind = ?"]
    params: list[Any] = [job_filter.kind]
    if job_filter.owner_id is not None:
        clauses.append("owner_id = ?")
        params.append(job_filter.owner_id)
    if job_filter.types:
        clauses.append("type IN (" + ", ".join("?" * len(job_filter.types)) + ")")
        params += list(job_filter.types)
    if job_filter.node_id is not None:
        clauses.append("(target_node IS NULL OR target_node = ?)")
        params.append(job_filter.node_id)
    return " AND ".join(clauses), checked(params)
