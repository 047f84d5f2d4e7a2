"""SQLite's writer runs units on the event loop's thread (writer.py): it must never make the loop wait on the
file lock or on a checkpoint, and must still commit everything it accepted."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from agenthub.core.errors import StorageUnavailable
from agenthub.storage import writer as writer_module
from agenthub.storage.database import Database


@pytest.fixture
def path(tmp_path: Path) -> Path:
    file = tmp_path / "writer.db"
    with sqlite3.connect(file) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE items (n INTEGER PRIMARY KEY, note TEXT)")
    return file


@pytest.fixture
async def db(path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite:///{path}")
    try:
        yield database
    finally:
        await database.dispose()


def insert(n: int) -> Any:
    def work(conn: Any) -> int:
        conn.execute(sa.text("INSERT INTO items (n, note) VALUES (:n, 'x')"), {"n": n})
        return n

    return work


def count(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM items").fetchone()[0])


async def test_a_file_locked_by_another_process_does_not_stop_the_loop(db: Database, path: Path) -> None:
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        unit = asyncio.ensure_future(db.unit(insert(1)))
        for _ in range(20):  # the loop keeps turning while the unit waits for the file
            await asyncio.sleep(0)
        assert not unit.done()
        assert db.write_queue_depth == 1
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert await asyncio.wait_for(unit, 10) == 1
    assert await db.unit(insert(2)) == 2  # and the writer goes on
    assert count(path) == 2


async def test_a_file_locked_for_too_long_is_refused_and_nothing_is_half_written(
    db: Database, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "BUSY_LIMIT_SECONDS", 0.05)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        units = [asyncio.ensure_future(db.unit(insert(n))) for n in (1, 2)]
        outcomes = await asyncio.wait_for(asyncio.gather(*units, return_exceptions=True), 10)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert all(isinstance(outcome, StorageUnavailable) for outcome in outcomes), outcomes
    assert await db.unit(insert(3)) == 3  # the file is free again: writes go on
    assert count(path) == 1


async def test_checkpoints_run_beside_the_writer_not_in_its_commits(
    db: Database, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "COMMITS_PER_CHECKPOINT", 4)
    # The loop's connection never checkpoints inside a commit (a checkpoint copies pages and fsyncs).
    assert await db.unit(lambda conn: conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()) == 0
    for n in range(12):
        await db.unit(insert(n))  # each alone in its transaction: twelve commits
    writer = db._writer
    assert writer is not None
    assert await asyncio.to_thread(writer._checkpointer.ran.wait, 10), "no checkpoint after twelve commits"
    await db.dispose()
    assert count(path) == 12
