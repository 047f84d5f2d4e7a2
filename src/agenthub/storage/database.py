"""The database handle: one async engine, write transactions that serialize correctly on both dialects,
and driver errors translated into core errors at this boundary."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import Connection, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError, StatementError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from agenthub.core.errors import Conflict, InvalidValue, StorageUnavailable
from agenthub.storage.writer import SqliteWriter

T = TypeVar("T")
log = logging.getLogger(__name__)

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=10000",
    "PRAGMA foreign_keys=ON",
)


SQLITE_DRIVERS = ("sqlite", "sqlite+pysqlite", "sqlite+aiosqlite")
POSTGRES_DRIVERS = (
    "postgresql",
    "postgres",
    "postgresql+psycopg2",
    "postgresql+psycopg",
    "postgresql+asyncpg",
)


class UnsupportedDatabase(ValueError):
    """The URL names a database agenthub does not run on."""


def normalize_url(url: str) -> str:
    """Accepts plain `sqlite:///` and `postgresql://` URLs and picks the async driver for them."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise UnsupportedDatabase(f"AGENTHUB_DATABASE_URL is not a database URL: {url!r}") from exc
    if parsed.drivername in SQLITE_DRIVERS:
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif parsed.drivername in POSTGRES_DRIVERS:
        parsed = parsed.set(drivername="postgresql+asyncpg")
    else:
        raise UnsupportedDatabase(
            f"AGENTHUB_DATABASE_URL: {parsed.drivername!r} is not supported; "
            "use sqlite:///path/to/file.db or postgresql://user@host/db"
        )
    return parsed.render_as_string(hide_password=False)


def lease_pool_size(pool_size: int) -> int:
    """PostgreSQL connections kept for leases (polls) beside the pool of `pool_size`: a poll brings up to
    twenty jobs, so a quarter as many polls as other calls are in flight."""
    return max(2, pool_size // 4)


class Database:
    def __init__(self, url: str, *, pool_size: int = 20, echo: bool = False) -> None:
        self.url = normalize_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if not self.is_sqlite:
            # No pre-ping: on asyncpg it costs three round trips (BEGIN, SELECT 1, ROLLBACK) per checkout.
            # A connection found dead fails its one request with StorageUnavailable and SQLAlchemy then
            # invalidates every older pooled connection, so the pool recovers from a restart by itself.
            kwargs.update(pool_size=pool_size, max_overflow=pool_size)
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        # SQLite has one writer: queueing writers here is cheaper than letting them spin on the file lock.
        # A file database gets a single writer (group commit on the loop's thread, see writer.py); an
        # in-memory one (one database per connection) keeps the plain lock.
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        self._writer: SqliteWriter | None = None
        _guard_values(self.engine.sync_engine)
        self._read_engine = (
            self.engine if self.is_sqlite else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        # PostgreSQL's lease statements run on connections of their own, where the planner may not sort: the
        # queue index (ix_jobs_queue) gives their order, and they must walk it. The table's statistics often
        # say pending jobs are rare (they were when it was last sampled); when a burst then waits, the
        # planner read every pending job through another index and sorted them all, on every lease
        # (measured: 15,000 pending, 4-10 ms of the database per lease instead of 0.1 ms).
        # (The engine that owns the pool, and its autocommit view, as for the main pool above.)
        self._lease_pool: tuple[AsyncEngine, AsyncEngine] | None = None
        if not self.is_sqlite:
            leases = create_async_engine(
                self.url,
                echo=echo,
                pool_size=lease_pool_size(pool_size),
                max_overflow=lease_pool_size(pool_size),
                connect_args={"server_settings": {"enable_sort": "off"}},
            )
            _guard_values(leases.sync_engine)
            self._lease_pool = (leases, leases.execution_options(isolation_level="AUTOCOMMIT"))
        if self.is_sqlite:
            _configure_sqlite(self.engine)
            if _is_file_database(self.url):
                self._writer = SqliteWriter(self.url, _on_sqlite_connect)
                _guard_values(self._writer.engine)

    @property
    def safe_url(self) -> str:
        """The URL without its password, for messages."""
        return make_url(self.url).render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        return "sqlite" if self.is_sqlite else "postgresql"

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that may write. On SQLite it takes the write lock up front (BEGIN IMMEDIATE)."""
        if self._write_lock is None:
            async with _translated(), self.engine.begin() as conn:
                yield conn
            return
        async with self._write_lock, _translated():
            turn = await self._writer.turn() if self._writer is not None else None
            try:
                engine = self.engine.execution_options(sqlite_immediate=True)
                async with engine.begin() as conn:
                    yield conn
            finally:
                if turn is not None:
                    turn.release()

    async def unit(self, work: Callable[[Connection], T]) -> T:
        """Runs `work` (plain synchronous SQLAlchemy code) as one transaction; returns after its commit.

        On SQLite the single writer runs it on the loop's thread, grouped with other units into one
        transaction (each in its own savepoint: an exception rolls back and reaches only its own caller).
        On PostgreSQL it runs in one greenlet on a pooled connection: no event-loop turn per statement.
        """
        async with _translated():
            if self._writer is not None:
                return await self._writer.run(work)
            if self._write_lock is not None:
                async with self.write() as conn:
                    return await conn.run_sync(work)
            async with self.engine.begin() as conn:
                return await conn.run_sync(work)

    @asynccontextmanager
    async def postgres(
        self, *, lease: bool = False
    ) -> AsyncIterator[tuple[AsyncConnection, asyncpg.Connection]]:
        """A pooled PostgreSQL connection outside any transaction, and its asyncpg connection, for the hot
        transitions' plain statements (postgres_jobs.py). Both run on the same session: inside a transaction
        opened on the asyncpg connection, SQLAlchemy statements (a protocol's hook) run in it too. `lease`:
        one of the lease connections, where the planner walks the queue index instead of sorting.

        A connection given back mid-transaction (its caller was cancelled) is closed, never reused. A lost
        connection fails its one caller with StorageUnavailable and the pool drops every older connection,
        as SQLAlchemy does when its own statements find the server gone (a restart)."""
        if self.is_sqlite:
            raise RuntimeError("plain asyncpg connections are for PostgreSQL")
        pool, engine = self._lease_pool if lease and self._lease_pool else (self.engine, self._read_engine)
        async with _translated(), engine.connect() as conn:
            raw: asyncpg.Connection = (await conn.get_raw_connection()).driver_connection
            try:
                yield conn, raw
            except _LOST_CONNECTION as exc:
                await conn.invalidate(exc)
                await pool.dispose(close=False)
                raise StorageUnavailable(str(exc) or type(exc).__name__) from exc
            finally:
                if not conn.invalidated and raw.is_in_transaction():
                    await conn.invalidate()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reading. On PostgreSQL it runs in autocommit: under READ COMMITTED every
        statement has its own snapshot anyway, and it saves the BEGIN and ROLLBACK round trips."""
        async with _translated(), self._read_engine.connect() as conn:
            yield conn

    @property
    def write_queue_depth(self) -> int:
        """Writers waiting for the SQLite write lock (0 on PostgreSQL, which has no such lock): units and
        protocol transactions queued for the writer, and protocol writers queued for their turn."""
        waiters = getattr(self._write_lock, "_waiters", None)  # asyncio.Lock keeps them; no public count
        queued = self._writer.depth if self._writer is not None else 0
        return queued + (len(waiters) if waiters else 0)

    def pool_stats(self) -> dict[str, int]:
        """The connection pools as they are now (on PostgreSQL the lease connections' included): their size,
        connections in use, idle and overflowing ones."""
        stats: dict[str, int] = {}
        for engine in self._pools():
            for name, value in _pool_stats(engine).items():
                stats[name] = stats.get(name, 0) + value
        return stats

    def _pools(self) -> list[AsyncEngine]:
        """The engines that own a connection pool: the main one, and PostgreSQL's lease connections."""
        return [self.engine] + ([self._lease_pool[0]] if self._lease_pool else [])

    async def warm(self) -> None:
        """Opens the pool's connections now (PostgreSQL): each new asyncpg connection costs a handshake and
        type introspection, tens of milliseconds that otherwise land on the first requests after a start
        (measured: the poll p99 of a fresh server). SQLite has nothing to open."""
        if self.is_sqlite:
            return
        pools = [(engine, _pool_stats(engine).get("size", 0)) for engine in self._pools()]
        size = sum(count for _engine, count in pools)
        async with contextlib.AsyncExitStack() as held:  # all at once, then all back to the pools
            opened = await asyncio.gather(
                *(held.enter_async_context(pool.connect()) for pool, count in pools for _ in range(count)),
                return_exceptions=True,
            )
        failed = [result for result in opened if isinstance(result, BaseException)]
        if failed:  # the requests will open them instead; nothing else depends on this
            log.warning("opened %d of %d database connections ahead: %s", size - len(failed), size, failed[0])

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await asyncio.wait_for(conn.execute(text("SELECT 1")), timeout=3)
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        if self._writer is not None:
            await self._writer.close()
        for engine in self._pools():
            await engine.dispose()


def _pool_stats(engine: AsyncEngine) -> dict[str, int]:
    """One pool's size, connections in use, idle and overflowing ones (what its pool class can tell)."""
    pool: Any = engine.pool
    stats: dict[str, int] = {}
    for name, method in (("size", "size"), ("checked_out", "checkedout"), ("idle", "checkedin")):
        if callable(getattr(pool, method, None)):
            stats[name] = int(getattr(pool, method)())
    if callable(getattr(pool, "overflow", None)):
        stats["overflow"] = max(0, int(pool.overflow()))
    return stats


@asynccontextmanager
async def _translated() -> AsyncIterator[None]:
    try:
        yield
    except StatementError as exc:
        if isinstance(exc.orig, InvalidValue):
            raise exc.orig from exc
        if isinstance(exc, IntegrityError):
            raise Conflict(str(exc.orig)) from exc
        if isinstance(exc, OperationalError):
            raise StorageUnavailable(str(exc)) from exc
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            raise StorageUnavailable(str(exc)) from exc
        raise
    except InvalidValue:
        raise
    # The plain sqlite3 statements of the hot transitions (sqlite_jobs.py) raise the driver's own errors.
    except sqlite3.IntegrityError as exc:
        raise Conflict(str(exc)) from exc
    except sqlite3.OperationalError as exc:
        raise StorageUnavailable(str(exc)) from exc
    # And PostgreSQL's (postgres_jobs.py), from asyncpg.
    except asyncpg.IntegrityConstraintViolationError as exc:
        raise Conflict(str(exc)) from exc
    except (OSError, ConnectionError) as exc:
        raise StorageUnavailable(str(exc)) from exc


# What asyncpg raises when the server or the connection to it went away (InternalClientError: it met the
# connection's end half-processed, e.g. a query sent just as the server's termination notice arrived).
_LOST_CONNECTION = (
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    OSError,
    ConnectionError,
)

INT64 = (-(2**63), 2**63 - 1)


def check_value(value: Any) -> None:
    """Refuses, on every dialect alike, what one of them cannot store: integers beyond 64 bits (SQLite
    overflows, PostgreSQL refuses) and NUL characters (PostgreSQL refuses them in text and in JSON)."""
    if isinstance(value, bool):
        return
    if isinstance(value, int) and not INT64[0] <= value <= INT64[1]:
        raise InvalidValue(f"integer out of range: {value}")
    if isinstance(value, str) and ("\x00" in value or "\\u0000" in value):
        raise InvalidValue("text must not contain NUL characters")


def checked(values: Iterable[Any]) -> tuple[Any, ...]:
    """The values, each through check_value: for plain driver statements, which skip SQLAlchemy's guard."""
    out = tuple(values)
    for value in out:
        check_value(value)
    return out


def _check_parameters(parameters: Any) -> None:
    if isinstance(parameters, dict):
        for value in parameters.values():
            check_value(value)
    elif isinstance(parameters, list | tuple):
        for item in parameters:
            if isinstance(item, dict | list | tuple):
                _check_parameters(item)
            else:
                check_value(item)


def _guard_values(engine: Engine) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def _before(
        _conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        _check_parameters(parameters)


def _is_file_database(url: str) -> bool:
    database = make_url(url).database
    return bool(database) and database != ":memory:" and "mode=memory" not in url


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide when transactions begin (so BEGIN IMMEDIATE is possible).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine
    event.listen(sync_engine, "connect", _on_sqlite_connect)

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
