"""SQLite's single writer: one thread, one connection, group commit.

Every engine transition is a unit of work (load, lock, rule, write, event, hook) run as plain synchronous code
on this thread, so a transition costs one hand-off from the event loop and back instead of one per statement.
Units that arrive while a transaction is being written wait in the queue and go into the next transaction
together: one BEGIN IMMEDIATE, one SAVEPOINT per unit (a unit that raises rolls back only its own writes and
gets its own exception), one COMMIT. Callers hear their outcome only after that COMMIT.

Protocol code that writes through `Database.write()` (an aiosqlite connection, able to await anything) takes
its turn through the same queue: the thread finishes its transaction, hands the file over, and waits until
the protocol's transaction ends. So writers never meet on SQLite's file lock, where they would sleep and spin.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

log = logging.getLogger(__name__)

T = TypeVar("T")
Unit = Callable[[Connection], Any]

# Enough to amortize the commit, small enough that one transaction never holds the file for long.
MAX_BATCH = 128


@dataclass(eq=False)
class _Work:
    unit: Unit
    future: asyncio.Future[Any]
    outcome: tuple[bool, Any] = (False, None)


@dataclass(eq=False)
class _Turn:
    """A protocol's `Database.write()` asking for the file."""

    granted: asyncio.Future[None]
    done: threading.Event = field(default_factory=threading.Event)


_STOP = object()


class SqliteWriter:
    def __init__(self, url: str, on_connect: Callable[[Any, Any], None]) -> None:
        sync_url = make_url(url).set(drivername="sqlite+pysqlite")
        # One connection, used only by the writer thread.
        self.engine = create_engine(sync_url, poolclass=StaticPool, connect_args={"check_same_thread": False})
        event.listen(self.engine, "connect", on_connect)
        event.listen(self.engine, "begin", _begin_immediate)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def depth(self) -> int:
        """Units and turns waiting for the writer thread."""
        return self._queue.qsize()

    async def run(self, unit: Callable[[Connection], T]) -> T:
        """Runs the unit in the next transaction; returns (or raises) once that transaction has committed."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._ensure_started()
        self._queue.put(_Work(unit, future))
        # Once queued the unit runs and commits anyway; a caller cancelled meanwhile cancels only its future,
        # which the delivery then passes over (no shield: it cost a second future and two callbacks a call).
        return await future

    async def turn(self) -> _Turn:
        """Waits until the writer thread has handed over the file; the caller sets `done` when finished."""
        turn = _Turn(asyncio.get_running_loop().create_future())
        self._ensure_started()
        self._queue.put(turn)
        try:
            await turn.granted
        except BaseException:
            # Cancelled after the grant was delivered: give the turn back. (Cancelled before it: the
            # delivery callback sees the cancelled future and gives it back itself.)
            if turn.granted.done() and not turn.granted.cancelled():
                turn.done.set()
            raise
        return turn

    def close(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout=30)
        self.engine.dispose()

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name="agenthub-sqlite-writer", daemon=True
                )
                self._thread.start()

    # -- the writer thread ------------------------------------------------------------------------------

    def _serve(self) -> None:
        with self.engine.connect() as conn:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    return
                if isinstance(item, _Turn):
                    self._hand_over(item)
                    continue
                batch = [item]
                pending_turn: Any = None
                while len(batch) < MAX_BATCH:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if isinstance(more, _Work):
                        batch.append(more)
                    else:
                        pending_turn = more
                        break
                self._commit(conn, batch)
                if pending_turn is _STOP:
                    return
                if pending_turn is not None:
                    self._hand_over(pending_turn)

    def _commit(self, conn: Connection, batch: list[_Work]) -> None:
        try:
            transaction = conn.begin()
            try:
                if len(batch) == 1:
                    # Alone in its transaction: no neighbours to protect, so no savepoint.
                    work = batch[0]
                    try:
                        work.outcome = (True, work.unit(conn))
                    except BaseException as exc:
                        transaction.rollback()
                        work.outcome = (False, exc)
                        _deliver(batch)
                        return
                else:
                    # SQL savepoints on the DBAPI connection: SQLAlchemy's nested transactions cost more
                    # Python than the statements of a whole transition (py-spy).
                    raw = conn.connection.driver_connection
                    assert raw is not None
                    for work in batch:
                        raw.execute("SAVEPOINT unit")
                        try:
                            result = work.unit(conn)
                        except BaseException as exc:
                            raw.execute("ROLLBACK TO unit")
                            raw.execute("RELEASE unit")
                            work.outcome = (False, exc)
                        else:
                            raw.execute("RELEASE unit")
                            work.outcome = (True, result)
                transaction.commit()
            except BaseException:
                if transaction.is_active:
                    transaction.rollback()
                raise
        except BaseException as exc:  # BEGIN, a savepoint or COMMIT failed: nothing in the batch was written
            log.debug("sqlite batch of %d failed: %s", len(batch), exc)
            for work in batch:
                work.outcome = (False, exc)
        _deliver(batch)

    @staticmethod
    def _hand_over(turn: _Turn) -> None:
        loop = turn.granted.get_loop()
        try:
            loop.call_soon_threadsafe(_grant, turn)
        except RuntimeError:  # the loop is gone: nobody will take the turn
            return
        turn.done.wait()


def _begin_immediate(conn: Any) -> None:
    # This thread is the one writer: take the write lock at BEGIN, never upgrade a read lock mid-way.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _deliver(batch: list[_Work]) -> None:
    by_loop: dict[asyncio.AbstractEventLoop, list[_Work]] = {}
    for work in batch:
        by_loop.setdefault(work.future.get_loop(), []).append(work)
    for loop, works in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop is closed; its callers are gone
            loop.call_soon_threadsafe(_settle, works)


def _settle(works: list[_Work]) -> None:
    for work in works:
        if work.future.cancelled():
            continue
        ok, value = work.outcome
        if ok:
            work.future.set_result(value)
        else:
            work.future.set_exception(value)


def _grant(turn: _Turn) -> None:
    if turn.granted.cancelled():
        turn.done.set()
    else:
        turn.granted.set_result(None)
