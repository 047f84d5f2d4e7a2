"""The bus contract. Messages are JSON-able dicts; delivery is at-most-once and live only (durable state
is in the database, the bus only says "look again")."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol


class Subscription(Protocol):
    def __aiter__(self) -> AsyncIterator[tuple[str, dict[str, Any]]]: ...

    async def get(self, timeout: float | None = None) -> tuple[str, dict[str, Any]] | None: ...


class Bus(Protocol):
    async def publish(self, channel: str, message: dict[str, Any]) -> None: ...

    def subscribe(self, *channels: str) -> AbstractAsyncContextManager[Subscription]: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def ping(self) -> bool: ...
