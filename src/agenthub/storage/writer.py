"""SQLite's single writer: one connection, on the event loop's own thread, with group commit.

Every engine transition is a unit of work (load, lock, rule, write, event, hook): plain synchronous code of a
few statements. Units queue up while the event loop is busy with other requests; at its next turn the loop
runs all of them (up to MAX_BATCH) in one transaction: one BEGIN IMMEDIATE, one SAVEPOINT per unit (a unit
that raises rolls back only its own writes and gets its own exception), one COMMIT. Callers hear their
outcome only after that COMMIT.

Why on the loop's thread: a writer thread cost a hand-off to it and back per batch, and the two threads then
took turns on the GIL at every request (py-spy showed ~10% of samples waiting for it); running the units
here is ~18% more jobs/s (bench.oas_jobs). A unit is ~30-60 us of sqlite3 (the hot transitions skip
SQLAlchemy, sqlite_jobs.py), and with `synchronous=NORMAL` a WAL commit writes to the page cache without
fsync, so nothing here waits on the disk. The one slow thing a commit could do, a WAL checkpoint (copying
pages into the database file and fsyncing it), is switched off on this connection and done by a background
thread with its own connection (`Checkpointer`), which in WAL mode runs alongside the writer.

Nor does the loop ever wait for the file lock: BEGIN IMMEDIATE is tried without a busy timeout, and when
another process holds the lock the batch goes back to the head of the queue and is tried again a few
milliseconds later (for as long as the other connections' busy timeout would have waited).

Protocol code that writes through `Database.write()` (an aiosqlite connection, able to await anything) takes
its turn through the same queue: the writer finishes its transaction, hands the file over, and queues units
until the protocol's transaction ends. So writers never meet on SQLite's file lock.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

log = logging.getLogger(__name__)

T = TypeVar("T")
Unit = Callable[[Connection], Any]

# Enough to amortize the commit, small enough that one transaction never holds the loop for long.
MAX_BATCH = 128
# The file is locked by someone else: try again this often, for at most this long (the busy timeout).
BUSY_RETRY_SECONDS = 0.005
BUSY_LIMIT_SECONDS = 10.0
# Commits between checkpoints (SQLite's own auto-checkpoint is at ~1,000 WAL pages; a commit of a batch
# writes a few to a few dozen), and the longest the checkpointer sleeps anyway.
COMMITS_PER_CHECKPOINT = 64
CHECKPOINT_INTERVAL_SECONDS = 1.0


@dataclass(eq=False)
class _Work:
    unit: Unit
    future: asyncio.Future[Any]
    outcome: tuple[bool, Any] = (False, None)


class Turn:
    """A protocol's `Database.write()` holding the file; `release()` when its transaction has ended."""

    def __init__(self, writer: SqliteWriter, granted: asyncio.Future[None]) -> None:
        self.granted = granted
        self._writer = writer
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._writer._turn_ended()


class SqliteWriter:
    def __init__(self, url: str, on_connect: Callable[[Any, Any], None]) -> None:
        sync_url = make_url(url).set(drivername="sqlite+pysqlite")
        # One connection, used by the event loop's thread only (closed from wherever the runtime closes).
        self.engine = create_engine(sync_url, poolclass=StaticPool, connect_args={"check_same_thread": False})
        event.listen(self.engine, "connect", on_connect)
        event.listen(self.engine, "connect", _writer_pragmas)
        self._conn: Connection | None = None
        self._pending: deque[_Work | Turn] = deque()
        self._flush_scheduled = False
        self._turn_active = False
        self._busy_since: float | None = None
        self._commits = 0
        self._checkpointer = Checkpointer(str(sync_url.database))

    @property
    def depth(self) -> int:
        """Units and turns waiting for the writer."""
        return len(self._pending)

    async def run(self, unit: Callable[[Connection], T]) -> T:
        """Runs the unit in the next transaction; returns (or raises) once that transaction has committed.

        Once queued the unit runs and commits anyway; a caller cancelled meanwhile cancels only its future."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append(_Work(unit, future))
        self._schedule(loop)
        return await future

    async def turn(self) -> Turn:
        """Waits until the writer has handed over the file; the caller releases the turn when finished."""
        loop = asyncio.get_running_loop()
        turn = Turn(self, loop.create_future())
        self._pending.append(turn)
        self._schedule(loop)
        try:
            await turn.granted
        except BaseException:
            # Cancelled after the grant: give the turn back. (Cancelled before it: the flush passes it over.)
            if turn.granted.done() and not turn.granted.cancelled():
                turn.release()
            raise
        return turn

    async def close(self) -> None:
        """Commits what is queued, stops the checkpointer (after a last checkpoint), closes the connection."""
        if not self._turn_active:
            self._flush()
        for item in self._pending:  # only behind a turn that never ended: nobody is left to run them
            future = item.future if isinstance(item, _Work) else item.granted
            future.cancel()
        self._pending.clear()
        await asyncio.to_thread(self._checkpointer.stop)
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self.engine.dispose()

    # -- the loop's side --------------------------------------------------------------------------------

    def _schedule(self, loop: asyncio.AbstractEventLoop, delay: float = 0.0) -> None:
        if self._flush_scheduled or self._turn_active:
            return
        self._flush_scheduled = True
        if delay:
            loop.call_later(delay, self._flush)
        else:
            loop.call_soon(self._flush)

    def _turn_ended(self) -> None:
        self._turn_active = False
        if self._pending:
            self._schedule(asyncio.get_running_loop())

    def _flush(self) -> None:
        """Runs what is queued, in order: batches of units, each in one transaction, and turns between."""
        self._flush_scheduled = False
        while self._pending and not self._turn_active:
            head = self._pending[0]
            if isinstance(head, Turn):
                self._pending.popleft()
                if not head.granted.cancelled():
                    self._turn_active = True
                    head.granted.set_result(None)
                continue
            batch: list[_Work] = []
            while self._pending and len(batch) < MAX_BATCH:
                item = self._pending[0]
                if not isinstance(item, _Work):
                    break
                batch.append(item)
                self._pending.popleft()
            if not self._commit(batch):
                self._pending.extendleft(reversed(batch))  # the file is locked elsewhere: again shortly
                self._schedule(asyncio.get_running_loop(), BUSY_RETRY_SECONDS)
                return
            _settle(batch)

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = self.engine.connect()
            self._checkpointer.start()
        return self._conn

    def _commit(self, batch: list[_Work]) -> bool:
        """Runs the batch as one transaction and records each unit's outcome; False (nothing run) when
        another connection holds the file's write lock."""
        try:
            conn = self._connection()
            raw = conn.connection.driver_connection
            assert raw is not None
            try:
                # Taken here, not by SQLAlchemy's begin: a busy file must leave the batch untouched.
                raw.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or self._waited_too_long():
                    raise
                return False
            self._busy_since = None
            transaction = conn.begin()  # SQLAlchemy's view of it; the dialect emits nothing more
            try:
                if len(batch) == 1:
                    # Alone in its transaction: no neighbours to protect, so no savepoint.
                    work = batch[0]
                    try:
                        work.outcome = (True, work.unit(conn))
                    except BaseException as exc:
                        transaction.rollback()
                        work.outcome = (False, exc)
                        return True
                else:
                    # SQL savepoints on the DBAPI connection: SQLAlchemy's nested transactions cost more
                    # Python than the statements of a whole transition (py-spy).
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
        except Exception as exc:  # BEGIN, a savepoint or COMMIT failed: nothing in the batch was written
            log.debug("sqlite batch of %d failed: %s", len(batch), exc)
            self._busy_since = None
            for work in batch:
                work.outcome = (False, exc)
            return True
        self._commits += 1
        if self._commits % COMMITS_PER_CHECKPOINT == 0:
            self._checkpointer.wake()
        return True

    def _waited_too_long(self) -> bool:
        now = time.monotonic()
        if self._busy_since is None:
            self._busy_since = now
        return now - self._busy_since > BUSY_LIMIT_SECONDS


class Checkpointer:
    """WAL checkpoints on a thread of their own, so the event loop never copies pages or waits on fsync.

    PASSIVE checkpoints: they copy what no reader still needs and never wait for readers or the writer; the
    writer starts the WAL over once a checkpoint has caught up with it."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.ran = threading.Event()  # set after each checkpoint (tests wait on it)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._serve, name="agenthub-sqlite-checkpoint", daemon=True
            )
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping = True
            self._wake.set()
            thread.join(timeout=30)

    def _serve(self) -> None:
        conn = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout=10000")
            while True:
                self._wake.wait(CHECKPOINT_INTERVAL_SECONDS)
                self._wake.clear()
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.ran.set()
                except sqlite3.Error as exc:  # the next one catches up
                    log.warning("sqlite checkpoint failed: %s", exc)
                if self._stopping:
                    return
        finally:
            conn.close()


def _writer_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # No busy wait on the loop's thread (see _commit), and no checkpoint inside its commits (Checkpointer).
    dbapi_connection.execute("PRAGMA busy_timeout=0")
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


def _settle(works: list[_Work]) -> None:
    loop = asyncio.get_running_loop()
    for work in works:
        if work.future.get_loop() is not loop:  # queued from another loop (another thread): its own turn
            work.future.get_loop().call_soon_threadsafe(_settle_one, work)
        else:
            _settle_one(work)


def _settle_one(work: _Work) -> None:
    if work.future.cancelled():
        return
    ok, value = work.outcome
    if ok:
        work.future.set_result(value)
    else:
        work.future.set_exception(value)
