"""Running a protocol's transaction hook inside a synchronous unit of work.

A `TxHook` is written as `async def hook(conn, change)` and only awaits `conn.execute(...)`. Inside a unit
(the SQLite writer, one greenlet on PostgreSQL) the hook gets a connection whose `execute` is an
`async def` that never suspends, so the coroutine runs to its end in a single step, on the unit's own
transaction. A hook that awaits anything else (the network, a sleep) would need the event loop mid-way;
it is refused with an error instead of being half-run.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from agenthub.core.jobs import Change
from agenthub.core.ports import TxHook


class UnitConnection:
    """The part of `AsyncConnection` a hook uses, over the unit's synchronous connection."""

    def __init__(self, sync_connection: Connection) -> None:
        self.sync_connection = sync_connection

    async def execute(self, statement: Any, parameters: Any = None, **kwargs: Any) -> Any:
        return self.sync_connection.execute(statement, parameters, **kwargs)

    async def scalar(self, statement: Any, parameters: Any = None, **kwargs: Any) -> Any:
        return self.sync_connection.scalar(statement, parameters, **kwargs)

    async def scalars(self, statement: Any, parameters: Any = None, **kwargs: Any) -> Any:
        return self.sync_connection.scalars(statement, parameters, **kwargs)


def run_hook(hook: TxHook, conn: Connection, change: Change) -> None:
    steps = hook(UnitConnection(conn), change).__await__()
    try:
        next(steps)
    except StopIteration:
        return
    steps.close()
    raise RuntimeError(
        "a transaction hook may await only its connection; it suspended on something else mid-transaction"
    )
