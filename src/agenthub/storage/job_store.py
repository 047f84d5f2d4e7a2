"""Jobs in SQL. Every change loads the job under a lock, applies a core rule, and writes the job and its
event in one transaction (with the protocol's hook, if any). The lease picks with FOR UPDATE SKIP LOCKED on
PostgreSQL; on SQLite the write transaction (BEGIN IMMEDIATE) already excludes every other writer.

The transitions run as plain driver statements, one module per dialect: on SQLite (sqlite_jobs.py) as units
of work in the single writer, grouped with concurrent units into one commit, where the Python cost per
statement is the engine's throughput; on PostgreSQL (postgres_jobs.py) on the pooled connection's asyncpg
connection, where round trips are the cost: concurrent transitions group-commit in batches
(postgres_batches.py), a lone transition without a hook and a poll with nothing to expire take a shorter
path without a transaction. Creating jobs and every read go through SQLAlchemy."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from agenthub.core import rules
from agenthub.core.errors import InvalidTransition, JobNotFound
from agenthub.core.jobs import (
    Change,
    EventDraft,
    Job,
    JobEvent,
    JobFilter,
    JobOrder,
    JobQuery,
    JobSearch,
    JobStatus,
    NewJob,
)
from agenthub.core.ports import ExpiryRule, Rule, TxHook
from agenthub.storage import postgres_jobs, sqlite_jobs
from agenthub.storage.database import Database
from agenthub.storage.hooks import run_hook
from agenthub.storage.postgres_batches import TransitionBatches
from agenthub.storage.tables import job_events, jobs
from agenthub.storage.upsert import insert_for

NEW_JOB_COLUMNS = sqlite_jobs.NEW_JOB_COLUMNS


def row_to_job(row: Any) -> Job:
    m = row._mapping
    return Job(
        id=m["id"],
        kind=m["kind"],
        type=m["type"],
        status=JobStatus(m["status"]),
        payload=m["payload"] or {},
        priority=m["priority"],
        scheduled_at=m["scheduled_at"],
        attempts=m["attempts"],
        max_attempts=m["max_attempts"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        owner_id=m["owner_id"],
        subject_id=m["subject_id"],
        external_id=m["external_id"],
        target_node=m["target_node"],
        dedupe_key=m["dedupe_key"],
        leased_by=m["leased_by"],
        lease_epoch=m["lease_epoch"],
        lease_until=m["lease_until"],
        deadline=m["deadline"],
        started_at=m["started_at"],
        finished_at=m["finished_at"],
        progress=m["progress"],
        result=m["result"],
        error_code=m["error_code"],
        message=m["message"],
    )


class SqlJobStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        # PostgreSQL's transitions group-commit in batches (postgres_batches.py); SQLite's writer has its own.
        self._batches = None if db.is_sqlite else TransitionBatches(db)
        # The statements of every transition, built once: building and cache-keying a statement per call
        # cost more than executing it (py-spy). Parameters are bound per call.
        # New jobs: every column bound, so the statement is built and compiled once; "once" skips a job
        # whose dedupe key is taken.
        insert = insert_for(self.db.dialect, jobs).values(
            {name: sa.bindparam(name, type_=jobs.c[name].type) for name in NEW_JOB_COLUMNS}
        )
        self._insert = insert.returning(*jobs.c)
        self._insert_once = insert.on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(*jobs.c)
        self._add_event = job_events.insert().values(
            job_id=sa.bindparam("job_id"),
            type=sa.bindparam("type"),
            created_at=sa.bindparam("created_at", type_=job_events.c.created_at.type),
        )

    async def insert(self, new: NewJob, *, now: datetime, hook: TxHook | None = None) -> Job | None:
        values = {
            "kind": new.kind,
            "type": new.type,
            "status": JobStatus.PENDING.value,
            "payload": new.payload,
            "priority": new.priority,
            "scheduled_at": new.scheduled_at or now,
            "attempts": 0,
            "max_attempts": new.max_attempts,
            "owner_id": new.owner_id,
            "subject_id": new.subject_id,
            "external_id": new.external_id,
            "target_node": new.target_node,
            "dedupe_key": new.dedupe_key,
            "deadline": new.deadline,
            "lease_epoch": 0,
            "created_at": now,
            "updated_at": now,
        }
        stmt = self._insert_once if new.dedupe_key is not None else self._insert

        def work(conn: Connection) -> Job | None:
            if self.db.is_sqlite:
                job = sqlite_jobs.insert(sqlite_jobs.dbapi(conn), values, once=new.dedupe_key is not None)
                if job is None:
                    return None
            else:
                row = conn.execute(stmt, values).first()
                if row is None:
                    return None
                job = row_to_job(row)
                conn.execute(self._add_event, {"job_id": job.id, "type": "created", "created_at": now})
            if hook is not None:
                run_hook(hook, conn, Change(job, EventDraft("created")))
            return job

        return await self.db.unit(work)

    async def get(self, job_id: int) -> Job | None:
        async with self.db.read() as conn:
            row = (await conn.execute(sa.select(jobs).where(jobs.c.id == job_id))).first()
        return row_to_job(row) if row else None

    async def get_by_external_id(self, kind: str, external_id: str) -> Job | None:
        query = sa.select(jobs).where(jobs.c.kind == kind, jobs.c.external_id == external_id)
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        return row_to_job(row) if row else None

    async def apply(
        self, job_id: int, rule: Rule, *, hook: TxHook | None = None, lessee: str | None = None
    ) -> Change:
        if self._batches is not None:
            return await self._batches.apply(job_id, rule, hook=hook, lessee=lessee)

        def work(conn: Connection) -> Change:
            raw = sqlite_jobs.dbapi(conn)
            job = sqlite_jobs.load(raw, job_id)
            if job is None:
                raise JobNotFound(job_id)
            if lessee is not None and not rules.may_lease(sqlite_jobs.node_disabled(raw, lessee)):
                raise InvalidTransition(job_id, job.status.value, f"lease to the disabled node {lessee}")
            change = rule(job)
            if change.event is not None:
                sqlite_jobs.write(raw, change, before=job)
                if hook is not None:
                    run_hook(hook, conn, change)
            return change

        return await self.db.unit(work)

    async def lease(
        self,
        job_filter: JobFilter,
        *,
        node_id: str,
        limit: int,
        now: datetime,
        lease_for: timedelta,
        expire: ExpiryRule | None = None,
    ) -> tuple[list[Change], list[Job]]:
        until = now + lease_for
        if not self.db.is_sqlite:
            # The disabled check (core.rules.may_lease) is inside the lease statement.
            async with self.db.postgres(lease=True) as (_conn, raw):
                leased = await postgres_jobs.lease(
                    raw,
                    job_filter,
                    node_id=node_id,
                    limit=limit,
                    now=now,
                    lease_until=until,
                    unless_due=expire is not None,
                )
                if leased is not None:
                    return [], leased
                assert expire is not None  # only a guarded lease stops for expiry
                async with raw.transaction():
                    expired = await postgres_jobs.expire(raw, expire, now=now, limit=500)
                    leased = await postgres_jobs.lease(
                        raw, job_filter, node_id=node_id, limit=limit, now=now, lease_until=until
                    )
                    return expired, leased or []

        query = (
            self._scoped(sa.select(jobs.c.id), job_filter)
            .where(jobs.c.status == JobStatus.PENDING.value, jobs.c.scheduled_at <= now)
            .order_by(jobs.c.priority.desc(), jobs.c.scheduled_at, jobs.c.id)
            .limit(limit)
        )

        def work(conn: Connection) -> tuple[list[Change], list[Job]]:
            raw = sqlite_jobs.dbapi(conn)
            # Lapsed leases go back to the queue first, in the same transaction: two index probes when
            # nothing is due.
            expired = sqlite_jobs.expire(raw, expire, now=now, limit=500) if expire is not None else []
            if not rules.may_lease(sqlite_jobs.node_disabled(raw, node_id)):
                return expired, []
            if job_filter.owner_id is not None:
                ids = sqlite_jobs.due_by_priority(raw, job_filter, now=now, limit=limit)
            else:
                ids = list(conn.execute(query).scalars())
            if not ids:
                return expired, []
            return expired, sqlite_jobs.lease_ids(raw, ids, node_id=node_id, now=now, lease_until=until)

        return await self.db.unit(work)

    async def expire_due(self, rule: ExpiryRule, *, now: datetime, limit: int = 500) -> list[Change]:
        if not self.db.is_sqlite:
            async with self.db.postgres() as (_conn, raw), raw.transaction():
                return await postgres_jobs.expire(raw, rule, now=now, limit=limit)
        return await self.db.unit(
            lambda conn: sqlite_jobs.expire(sqlite_jobs.dbapi(conn), rule, now=now, limit=limit)
        )

    async def events(self, job_id: int) -> list[JobEvent]:
        query = sa.select(job_events).where(job_events.c.job_id == job_id).order_by(job_events.c.id)
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [
            JobEvent(
                id=r.id,
                job_id=r.job_id,
                type=r.type,
                created_at=r.created_at,
                node_id=r.node_id,
                message=r.message,
                error_code=r.error_code,
                data=r.data,
            )
            for r in rows
        ]

    async def find(self, query: JobQuery, *, limit: int, offset: int) -> tuple[list[Job], int]:
        conditions = _conditions(query)
        select = sa.select(jobs).where(*conditions).order_by(*_ORDER[query.order]).limit(limit).offset(offset)
        count = sa.select(sa.func.count()).select_from(jobs).where(*conditions)
        async with self.db.read() as conn:
            rows = (await conn.execute(select)).all()
            total = (await conn.execute(count)).scalar_one()
        return [row_to_job(r) for r in rows], total

    async def count(self, query: JobQuery) -> int:
        count = sa.select(sa.func.count()).select_from(jobs).where(*_conditions(query))
        async with self.db.read() as conn:
            return int((await conn.execute(count)).scalar_one())

    async def count_by(self, query: JobQuery, fields: Sequence[str]) -> dict[tuple[Any, ...], int]:
        columns = [jobs.c[name] for name in fields]
        select = sa.select(*columns, sa.func.count()).where(*_conditions(query)).group_by(*columns)
        async with self.db.read() as conn:
            return {tuple(row[:-1]): row[-1] for row in (await conn.execute(select)).all()}

    async def search(self, search: JobSearch, *, limit: int) -> list[Job]:
        """The console's job list: newest first, by keyset on id (see ix_jobs_kind_id, ix_jobs_status_id)."""
        query = sa.select(jobs).where(*_search_conditions(search)).order_by(jobs.c.id.desc()).limit(limit)
        async with self.db.read() as conn:
            return [row_to_job(r) for r in await conn.execute(query)]

    @staticmethod
    def _scoped(query: Any, job_filter: JobFilter) -> Any:
        query = query.where(jobs.c.kind == job_filter.kind)
        if job_filter.owner_id is not None:
            query = query.where(jobs.c.owner_id == job_filter.owner_id)
        if job_filter.types:
            query = query.where(jobs.c.type.in_(job_filter.types))
        if job_filter.node_id is not None:
            query = query.where(
                sa.or_(jobs.c.target_node.is_(None), jobs.c.target_node == job_filter.node_id)
            )
        return query


_ORDER: dict[JobOrder, tuple[Any, ...]] = {
    "newest": (jobs.c.id.desc(),),
    "oldest": (jobs.c.id,),
    "queue": (jobs.c.priority.desc(), jobs.c.scheduled_at, jobs.c.id),
}


def _conditions(query: JobQuery) -> list[Any]:
    c = jobs.c
    conditions: list[Any] = [c.kind == query.kind]
    for column, value in (
        (c.owner_id, query.owner_id),
        (c.subject_id, query.subject_id),
        (c.target_node, query.target_node),
        (c.leased_by, query.leased_by),
    ):
        if value is not None:
            conditions.append(column == value)
    if query.statuses is not None:
        conditions.append(c.status.in_([s.value for s in query.statuses]))
    if query.types is not None:
        conditions.append(c.type.in_(query.types))
    if query.ids is not None:
        conditions.append(c.id.in_(query.ids))
    if query.max_id is not None:
        conditions.append(c.id <= query.max_id)
    if query.due_at is not None:
        conditions.append(c.scheduled_at <= query.due_at)
    return conditions


def _search_conditions(search: JobSearch) -> list[Any]:
    c = jobs.c
    conditions: list[Any] = []
    if search.kinds is not None:
        conditions.append(c.kind.in_(search.kinds))
    if search.statuses is not None:
        conditions.append(c.status.in_([s.value for s in search.statuses]))
    if search.types is not None:
        conditions.append(c.type.in_(search.types))
    if search.leased_by is not None:
        conditions.append(c.leased_by == search.leased_by)
    if search.before_id is not None:
        conditions.append(c.id < search.before_id)
    text = (search.text or "").strip()
    if text:
        # Exact matches only, each served by an index: a prefix or substring search would scan the table.
        matches = [c.external_id == text, c.leased_by == text]
        if text.isdigit() and len(text) < 19:
            matches.append(c.id == int(text))
        conditions.append(sa.or_(*matches))
    return conditions
