"""The hot job transitions on PostgreSQL in as few round trips as the rules allow.

Every round trip costs CPU on both sides of the socket (SQLAlchemy and asyncpg here, a backend there), and on
a busy machine that CPU is the throughput. So:

- A transition without a protocol hook (start, heartbeat, progress, a push lease) runs optimistically: it
  reads the job with its row version (`xmin`, the id of the transaction that wrote this version of the row),
  applies the core rule in Python, and writes the job and its event in one statement that matches only that
  row version, committed on its own (no BEGIN, no COMMIT): 2 round trips instead of 4. If the row changed in
  between, the statement matches nothing and the caller runs the transition again under a row lock
  (`FOR UPDATE`), where the rule sees the job as it is then. A statement is atomic, so the job and its event
  commit together or not at all.
- A poll asks first whether anything has to expire (one statement); when nothing does (nearly always), the
  pick (`FOR UPDATE SKIP LOCKED`), the lease and the 'leased' events are one statement, committed on its own:
  2 round trips instead of 8. When something is due, the caller expires and leases in one transaction.
- An update sets only the columns the rule changed (and updated_at): the job's payload is not sent back and
  parsed again on every transition.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from agenthub.core.jobs import Change, Job, JobFilter, JobStatus
from agenthub.storage.tables import JOB_MUTABLE, agent_nodes, changed_columns, job_events, jobs

HELD = (JobStatus.LEASED.value, JobStatus.RUNNING.value)
ACTIVE = (JobStatus.PENDING.value, *HELD)
EVENT_FIELDS = ("type", "node_id", "message", "error_code", "data", "created_at")

# The row's version: a new one is written by every UPDATE, by another transaction than the one that wrote the
# version read (that one committed before it could be read). As text: xid has no ordering or cast from int.
ROW_VERSION: sa.ColumnElement[str] = sa.literal_column("jobs.xmin::text")
_LESSEE = sa.bindparam("lessee", type_=sa.String())
_DISABLED = sa.exists(
    sa.select(agent_nodes.c.id).where(
        agent_nodes.c.node_id == _LESSEE, agent_nodes.c.disabled_at.is_not(None)
    )
)
_LOAD_VERSIONED = sa.select(jobs, ROW_VERSION.label("row_version")).where(jobs.c.id == sa.bindparam("b_id"))
_NOW = sa.bindparam("now", type_=jobs.c.updated_at.type)
_DUE_TO_EXPIRE = sa.union_all(
    sa.select(jobs.c.id).where(jobs.c.status.in_(HELD), jobs.c.lease_until < _NOW).limit(1),
    sa.select(jobs.c.id).where(jobs.c.deadline <= _NOW, jobs.c.status.in_(ACTIVE)).limit(1),
)


def load_versioned(conn: Connection, job_id: int, row_to_job: Any) -> tuple[Job, str] | None:
    """The job as last committed, and its row version; None when there is no such job."""
    row = conn.execute(_LOAD_VERSIONED, {"b_id": job_id}).first()
    return None if row is None else (row_to_job(row), row.row_version)


def write(
    conn: Connection,
    change: Change,
    *,
    before: Job | None = None,
    version: str | None = None,
    lessee: str | None = None,
) -> bool:
    """Writes the job as the rule left it, and its event, in one statement. With the row `version` read
    before, only if the row is still at that version (and, with a `lessee`, only if that node is not
    disabled); False when it was not written."""
    job, event = change.job, change.event
    assert event is not None
    names = JOB_MUTABLE if before is None else changed_columns(job, before)
    if "updated_at" not in names:  # always: the row gets a new version, so a racing writer sees the change
        names = (*names, "updated_at")
    params: dict[str, Any] = {f"b_{name}": getattr(job, name) for name in names}
    if "status" in names:
        params["b_status"] = job.status.value
    params["b_id"] = job.id
    params.update(
        e_type=event.type,
        e_node_id=event.node_id,
        e_message=event.message,
        e_error_code=event.error_code,
        e_data=event.data,
        e_created_at=job.updated_at,
    )
    if version is not None:
        params["row_version"] = version
    if lessee is not None:
        params["lessee"] = lessee
    statement = _update_with_event(names, versioned=version is not None, lessee=lessee is not None)
    return conn.execute(statement, params).first() is not None


@functools.lru_cache(maxsize=128)
def _update_with_event(names: tuple[str, ...], *, versioned: bool, lessee: bool) -> Any:
    """UPDATE jobs ... RETURNING id, as a CTE the event's INSERT selects from: no job row, no event."""
    update = jobs.update().where(jobs.c.id == sa.bindparam("b_id"))
    if versioned:
        update = update.where(sa.bindparam("row_version") == ROW_VERSION)
    if lessee:
        update = update.where(~_DISABLED)
    update = update.values({name: sa.bindparam(f"b_{name}", type_=jobs.c[name].type) for name in names})
    updated = update.returning(jobs.c.id).cte("updated")
    event = sa.select(
        updated.c.id, *(sa.bindparam(f"e_{name}", type_=job_events.c[name].type) for name in EVENT_FIELDS)
    )
    return job_events.insert().from_select(["job_id", *EVENT_FIELDS], event).returning(job_events.c.id)


def lease_at_once(
    conn: Connection,
    job_filter: JobFilter,
    *,
    node_id: str,
    limit: int,
    now: datetime,
    lease_for: timedelta,
    row_to_job: Any,
    check_expiry: bool,
) -> list[Job] | None:
    """Leases up to `limit` due jobs to the node in one statement (nothing to a disabled node), in queue
    order. None, with nothing leased, when `check_expiry` and some lease or deadline has run out: the caller
    then expires and leases in one transaction."""
    if check_expiry and conn.execute(_DUE_TO_EXPIRE, {"now": now}).first() is not None:
        return None
    statement = _lease_statement(
        owner=job_filter.owner_id is not None,
        types=bool(job_filter.types),
        node=job_filter.node_id is not None,
    )
    params = {
        "f_kind": job_filter.kind,
        "f_owner_id": job_filter.owner_id,
        "f_types": list(job_filter.types or ()),
        "f_target": job_filter.node_id,
        "f_limit": limit,
        "now": now,
        "lessee": node_id,
        "until": now + lease_for,
    }
    rows = conn.execute(statement, params).all()
    return sorted((row_to_job(row) for row in rows), key=lambda j: (-j.priority, j.scheduled_at, j.id))


@functools.lru_cache(maxsize=16)
def _lease_statement(*, owner: bool, types: bool, node: bool) -> Any:
    """Pick (SKIP LOCKED), lease and record, for one shape of job filter; its values are bound per call.
    Built once per shape: building the CTEs cost more than a round trip (py-spy). No parameter is named
    after a column: SQLAlchemy would take it for a value of the UPDATE's SET clause."""
    picked = sa.select(jobs.c.id).where(
        jobs.c.kind == sa.bindparam("f_kind", type_=sa.String()),
        jobs.c.status == JobStatus.PENDING.value,
        jobs.c.scheduled_at <= _NOW,
        ~_DISABLED,
    )
    if owner:
        picked = picked.where(jobs.c.owner_id == sa.bindparam("f_owner_id", type_=sa.BigInteger()))
    if types:
        picked = picked.where(jobs.c.type.in_(sa.bindparam("f_types", expanding=True, type_=sa.String())))
    if node:
        target = sa.bindparam("f_target", type_=sa.String())
        picked = picked.where(sa.or_(jobs.c.target_node.is_(None), jobs.c.target_node == target))
    picked_cte = (
        picked.order_by(jobs.c.priority.desc(), jobs.c.scheduled_at, jobs.c.id)
        .limit(sa.bindparam("f_limit", type_=sa.Integer()))
        .with_for_update(skip_locked=True)
        .cte("picked")
    )
    leased = (
        jobs.update()
        .where(jobs.c.id == picked_cte.c.id)
        .values(
            status=JobStatus.LEASED.value,
            leased_by=_LESSEE,
            lease_epoch=jobs.c.lease_epoch + 1,
            lease_until=sa.bindparam("until", type_=jobs.c.lease_until.type),
            updated_at=_NOW,
        )
        .returning(*jobs.c)
        .cte("leased")
    )
    events = (
        job_events.insert()
        .from_select(
            ["job_id", "type", "node_id", "created_at"],
            sa.select(leased.c.id, sa.literal("leased"), _LESSEE, _NOW),
        )
        .cte("events")
    )
    return sa.select(leased).add_cte(events)
