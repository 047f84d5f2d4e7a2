"""Group commit for job transitions on PostgreSQL: the transitions that arrive while a batch runs are
applied together in a next one, in one transaction.

On PostgreSQL a transition's cost is its round trips (each ~100 us of the server's CPU in asyncpg and the
event loop, and a statement and a commit on the database's side), and alone a transition with a hook (an
Oas complete copying the result to its user) is five: BEGIN, the locked read, the write, the hook, COMMIT.
A batch of n is BEGIN, one locked read of all its jobs, the disabled check of its lessees (when any), one
pipelined `executemany` per shape of change, the hooks, COMMIT: for n completes 4 round trips and the
hooks' statements instead of 4n and those, and 4 for n starts instead of 2n.

Batches form on their own. Transitions with hooks and without go to two lanes (a start never waits behind
the hooks of a batch of completes). A lane runs one batch while others queue up for its next; a further
batch begins alongside (up to RUNNERS) only once SPAWN_AT transitions wait, so a quiet server answers at
once and a busy one writes more per round trip without queueing behind one connection's latency.

Rules are per transition: each sees its job as locked in this transaction, and a refusal, a missing job or a
rule's error is that caller's answer alone. A job is in a batch at most once; a second transition of it
waits for a next batch and sees the first one's result. Locks are taken in one order so that batches running
side by side never wait on each other in a circle: the jobs by id, in one statement; then the hooks run by
the job's subject, whose row is what a protocol's hook writes (the Oas user). Should a hook lock something
else in another order, PostgreSQL breaks the deadlock by failing one transaction, and that batch runs again
as below.

What a batch cannot split: a statement or a hook that fails aborts the whole transaction. Then every
transition of the batch runs again on its own (same rules, on the jobs as they are now), so each caller gets
its own outcome; a lost connection fails the whole batch (the next call reconnects).

A lone transition without a hook takes the optimistic path of postgres_jobs.py (read with the row version,
one conditional write, no transaction: 2 round trips), and the locked path when its row changed meanwhile.

As with SQLite's writer: once a transition is in a batch it commits with it; a caller cancelled meanwhile
cancels only its own wait. A caller cancelled before its batch began leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import asyncpg
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from agenthub.core import rules
from agenthub.core.errors import InvalidTransition, JobNotFound, StorageUnavailable
from agenthub.core.jobs import Change, Job
from agenthub.core.ports import Rule, TxHook
from agenthub.storage import postgres_jobs
from agenthub.storage.database import Database
from agenthub.storage.hooks import run_hook

log = logging.getLogger(__name__)

# Enough to amortize BEGIN and COMMIT many times over; small enough that one transaction holds few locks.
MAX_BATCH = 64
# Batches of one lane that may run at once, each on its own pooled connection; a further one begins when
# this many transitions wait while the others run (below that, they make the next batch of a running one).
RUNNERS = 4
SPAWN_AT = 4


@dataclass(eq=False)
class _Transition:
    job_id: int
    rule: Rule
    hook: TxHook | None
    lessee: str | None
    done: asyncio.Future[Change]


class _Lane:
    """Transitions waiting for a batch, and the batches running, of one kind."""

    def __init__(self) -> None:
        self.waiting: list[_Transition] = []
        self.running: set[asyncio.Task[None]] = set()

    def next_batch(self) -> list[_Transition]:
        """The waiting transitions, in order of arrival, at most one per job and MAX_BATCH in all; callers
        cancelled before their turn are dropped."""
        batch: list[_Transition] = []
        later: list[_Transition] = []
        jobs: set[int] = set()
        for transition in self.waiting:
            if transition.done.done():
                continue
            if transition.job_id in jobs or len(batch) >= MAX_BATCH:
                later.append(transition)
            else:
                jobs.add(transition.job_id)
                batch.append(transition)
        self.waiting = later
        return batch


class TransitionBatches:
    """The job transitions of one store on PostgreSQL, applied in batches (see the module's text)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        # Two lanes, so that starts and heartbeats never wait behind the hooks of a batch of completes.
        self._lanes = {False: _Lane(), True: _Lane()}

    async def apply(self, job_id: int, rule: Rule, *, hook: TxHook | None, lessee: str | None) -> Change:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Change] = loop.create_future()
        lane = self._lanes[hook is not None]
        lane.waiting.append(_Transition(job_id, rule, hook, lessee, done))
        if not lane.running or (len(lane.running) < RUNNERS and len(lane.waiting) >= SPAWN_AT):
            lane.running.add(loop.create_task(self._run(lane)))
        return await done

    async def _run(self, lane: _Lane) -> None:
        try:
            while lane.waiting:
                batch = lane.next_batch()
                if not batch:
                    continue
                try:
                    await self._apply(batch)
                except BaseException as exc:  # the batch as a whole; each caller hears it (a cancel too)
                    for transition in batch:
                        _settle(transition, exc)
                    if not isinstance(exc, Exception):  # cancelled: the server stops
                        for transition in lane.waiting:
                            transition.done.cancel()
                        lane.waiting.clear()
                        raise
        finally:  # here, not in a done callback: once the loop has ended, apply() must not count this runner
            task = asyncio.current_task()
            if task is not None:
                lane.running.discard(task)

    async def _apply(self, batch: list[_Transition]) -> None:
        if len(batch) == 1:
            await self._alone(batch[0])
            return
        try:
            outcomes = await self._together(batch)
        except StorageUnavailable:
            raise
        except Exception:
            # A statement or a hook failed and took the transaction with it: each one again, on its own.
            log.debug("a batch of %d transitions failed; running them one by one", len(batch), exc_info=True)
            for transition in batch:
                await self._alone(transition)
            return
        for transition, outcome in zip(batch, outcomes, strict=True):
            _settle(transition, outcome)

    async def _alone(self, transition: _Transition) -> None:
        try:
            outcome: Change | Exception = await self._single(transition)
        except StorageUnavailable:
            raise
        except Exception as exc:
            outcome = exc
        _settle(transition, outcome)

    async def _single(self, t: _Transition) -> Change:
        if t.hook is None:
            async with self._db.postgres() as (_conn, raw):
                # Optimistic first (postgres_jobs.py): read, rule, one statement for the version read.
                loaded = await postgres_jobs.load_versioned(raw, t.job_id)
                if loaded is None:
                    raise JobNotFound(t.job_id)
                job, version = loaded
                change = t.rule(job)
                if change.event is None:
                    return change
                if await postgres_jobs.write(raw, change, before=job, version=version, lessee=t.lessee):
                    return change
                # The row changed since it was read (or the lessee is disabled): again, under the lock.
        outcome = (await self._together([t]))[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def _together(self, batch: list[_Transition]) -> list[Change | Exception]:
        """The batch in one transaction: each transition's change, or the exception that refused it."""
        async with self._db.postgres() as (conn, raw), raw.transaction():
            return await _locked(conn, raw, batch)


async def _locked(
    conn: AsyncConnection, raw: asyncpg.Connection, batch: list[_Transition]
) -> list[Change | Exception]:
    """Inside the batch's transaction: its jobs locked, each rule applied, the writes, the hooks."""
    locked = await postgres_jobs.load_many_locked(raw, [t.job_id for t in batch])
    lessees = {t.lessee for t in batch if t.lessee is not None}
    disabled = await postgres_jobs.disabled_nodes(raw, lessees) if lessees else set()
    outcomes: list[Change | Exception] = []
    writes: list[tuple[Change, Job]] = []
    for t in batch:
        try:
            job = locked.get(t.job_id)
            if job is None:
                raise JobNotFound(t.job_id)
            if t.lessee is not None and not rules.may_lease(t.lessee in disabled):
                operation = f"lease to the disabled node {t.lessee}"
                raise InvalidTransition(t.job_id, job.status.value, operation)
            change = t.rule(job)
        except Exception as exc:  # this caller's answer; nothing of it was written
            outcomes.append(exc)
            continue
        outcomes.append(change)
        if change.event is not None:
            writes.append((change, job))
    await postgres_jobs.write_many(raw, writes)
    hooked = [
        (t.hook, outcome)
        for t, outcome in zip(batch, outcomes, strict=True)
        if t.hook is not None and isinstance(outcome, Change) and outcome.event is not None
    ]
    if hooked:  # their statements run in this transaction (same session)
        # By subject (a protocol's hook locks its subject's row: the Oas user), so that two batches lock
        # those rows in the same order and never wait on each other in a circle.
        hooked.sort(key=lambda pair: pair[1].job.subject_id or 0)
        await conn.run_sync(_run_hooks, hooked)
    return outcomes


def _run_hooks(conn: Connection, hooked: list[tuple[TxHook, Change]]) -> None:
    for hook, change in hooked:
        run_hook(hook, conn, change)


def _settle(transition: _Transition, outcome: Change | BaseException) -> None:
    done = transition.done
    if done.done():  # its caller was cancelled meanwhile
        return
    if isinstance(outcome, BaseException):
        if isinstance(outcome, asyncio.CancelledError):
            done.cancel()
        else:
            done.set_exception(outcome)
    else:
        done.set_result(outcome)
