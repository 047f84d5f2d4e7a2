"""The cached account standing: read through until the bus listener is up, cached while it is, dropped on
an invalidation from any replica, and never refilled with a value read before an invalidation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, cast

from agenthub.bus import MemoryBus
from agenthub.protocols.oas.accounts import CHANNEL, Accounts, ManagerStanding
from agenthub.protocols.oas.managers_store import ManagersStore
from agenthub.protocols.oas.users_store import UsersStore

EXPIRY = datetime(2030, 1, 1, tzinfo=UTC)


class FakeManagers:
    def __init__(self) -> None:
        self.version = 0
        self.reads = 0
        self.gate: asyncio.Event | None = None  # a read that waits here is "in flight"
        self.reading = asyncio.Event()

    async def manager(self, *, manager_id: int) -> Any:
        self.reads += 1
        version = self.version
        self.reading.set()
        if self.gate is not None:
            await self.gate.wait()
        return type("M", (), {"expires_at": EXPIRY, "token_version": version})()


def accounts(managers: FakeManagers, bus: MemoryBus, now: list[float]) -> Accounts:
    return Accounts(
        cast(ManagersStore, managers), cast(UsersStore, None), bus, ttl=5.0, monotonic=lambda: now[0]
    )


async def test_reads_through_until_listening_then_caches_until_invalidated_or_aged() -> None:
    managers, bus, now = FakeManagers(), MemoryBus(), [0.0]
    cache = accounts(managers, bus, now)
    await cache.manager(1)
    await cache.manager(1)
    assert managers.reads == 2  # no listener: no cache
    listener = asyncio.create_task(cache.listen())
    await cache.listening.wait()
    await cache.manager(1)
    assert await cache.manager(1) == ManagerStanding(EXPIRY, 0)
    assert managers.reads == 3
    managers.version = 1
    await bus.publish(CHANNEL, {"kind": "manager", "id": 1})  # another replica changed it
    for _ in range(10):
        await asyncio.sleep(0)  # let the listener take the message
    assert await cache.manager(1) == ManagerStanding(EXPIRY, 1)
    now[0] = 6.0  # past the entry's age
    await cache.manager(1)
    assert managers.reads == 5
    listener.cancel()
    await asyncio.gather(listener, return_exceptions=True)
    assert not cache.listening.is_set()


async def test_a_read_that_raced_an_invalidation_is_not_cached() -> None:
    managers, bus, now = FakeManagers(), MemoryBus(), [0.0]
    cache = accounts(managers, bus, now)
    listener = asyncio.create_task(cache.listen())
    await cache.listening.wait()
    managers.gate = asyncio.Event()
    stale = asyncio.create_task(cache.manager(1))
    await managers.reading.wait()  # the read has the old version in hand
    managers.version = 1
    await cache.changed("manager", 1)
    managers.gate.set()
    assert (await stale).token_version == 0  # that caller saw the old row; the cache must not keep it
    managers.gate = None
    assert (await cache.manager(1)).token_version == 1
    listener.cancel()
    await asyncio.gather(listener, return_exceptions=True)
