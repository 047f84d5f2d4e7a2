"""Where an account stands (a manager's expiry and token version, a user's status and expiry), read on every
authenticated call and cached in process, because it is read far more often than it changes.

A change takes effect on the next request, on every replica: the replica that makes it drops its own entry
before answering and publishes the account on `runtime.bus`; every replica's listener drops it on arrival.
The bus delivers at most once, so entries also age out (`ttl`), and the cache is only used while the
listener is subscribed (a replica that might have missed an invalidation reads through instead).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from agenthub.bus import Bus
from agenthub.protocols.oas.managers_store import ManagersStore
from agenthub.protocols.oas.users_store import UsersStore

log = logging.getLogger(__name__)

CHANNEL = "oas.accounts"
Kind = Literal["manager", "user"]


@dataclass(frozen=True, slots=True)
class ManagerStanding:
    expires_at: datetime | None
    token_version: int

    def is_active(self, now: datetime) -> bool:
        """No expiry means not activated, which counts as expired (as the original does)."""
        return self.expires_at is not None and self.expires_at > now


@dataclass(frozen=True, slots=True)
class UserStanding:
    manager_id: int
    status: str
    expires_at: datetime | None


Standing = ManagerStanding | UserStanding | None


class Accounts:
    def __init__(
        self,
        managers: ManagersStore,
        users: UsersStore,
        bus: Bus,
        *,
        ttl: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._managers = managers
        self._users = users
        self._bus = bus
        self._ttl = ttl
        self._monotonic = monotonic
        self._entries: dict[tuple[Kind, int], tuple[float, Standing]] = {}
        # Bumped by every invalidation: a read that raced one does not store what it read.
        self._generation = 0
        self.listening = asyncio.Event()

    async def manager(self, manager_id: int) -> ManagerStanding | None:
        async def read() -> Standing:
            found = await self._managers.manager(manager_id=manager_id)
            return None if found is None else ManagerStanding(found.expires_at, found.token_version)

        standing = await self._cached(("manager", manager_id), read)
        assert standing is None or isinstance(standing, ManagerStanding)
        return standing

    async def user(self, user_id: int) -> UserStanding | None:
        async def read() -> Standing:
            found = await self._users.user(user_id=user_id)
            return None if found is None else UserStanding(found.manager_id, found.status, found.expires_at)

        standing = await self._cached(("user", user_id), read)
        assert standing is None or isinstance(standing, UserStanding)
        return standing

    async def changed(self, kind: Kind, account_id: int) -> None:
        """Call after committing a change to the account: this replica forgets it now, the others on the
        bus message."""
        self._forget(kind, account_id)
        try:
            await self._bus.publish(CHANNEL, {"kind": kind, "id": account_id})
        except Exception:  # the other replicas fall back on the entries' age
            log.warning("could not publish the invalidation of %s %s", kind, account_id, exc_info=True)

    async def listen(self) -> None:
        """Runs for as long as the replica does (a background loop): drops what other replicas changed."""
        try:
            async with self._bus.subscribe(CHANNEL) as subscription:
                self._clear()  # anything cached before this subscription may have missed a message
                self.listening.set()
                async for _channel, message in subscription:
                    kind, account_id = message.get("kind"), message.get("id")
                    if kind in ("manager", "user") and isinstance(account_id, int):
                        self._forget(kind, account_id)
        finally:
            self.listening.clear()
            self._clear()

    async def _cached(self, key: tuple[Kind, int], read: Callable[[], Awaitable[Standing]]) -> Standing:
        now = self._monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now and self.listening.is_set():
            return entry[1]
        generation = self._generation
        standing = await read()
        if self.listening.is_set() and generation == self._generation:
            self._entries[key] = (now + self._ttl, standing)
        return standing

    def _forget(self, kind: Kind, account_id: int) -> None:
        self._generation += 1
        self._entries.pop((kind, account_id), None)

    def _clear(self) -> None:
        self._generation += 1
        self._entries.clear()
