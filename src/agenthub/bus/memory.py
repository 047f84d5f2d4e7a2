"""The in-process bus: one queue per subscription, fan-out by channel name."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

log = logging.getLogger(__name__)

Message = tuple[str, dict[str, Any]]


class QueueSubscription:
    def __init__(self, maxsize: int) -> None:
        self.queue: asyncio.Queue[Message] = asyncio.Queue(maxsize)

    def deliver(self, item: Message) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:  # a stuck consumer loses live events, never blocks the publisher
            log.warning("subscriber queue full; dropping %s", item[0])

    async def get(self, timeout: float | None = None) -> Message | None:
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None

    async def __aiter__(self) -> AsyncIterator[Message]:
        while True:
            yield await self.queue.get()


class MemoryBus:
    def __init__(self, *, queue_size: int = 1000) -> None:
        self._subscribers: dict[str, set[QueueSubscription]] = defaultdict(set)
        self._queue_size = queue_size

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        self.deliver(channel, message)

    def deliver(self, channel: str, message: dict[str, Any]) -> None:
        for subscription in tuple(self._subscribers.get(channel, ())):
            subscription.deliver((channel, message))

    @asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[QueueSubscription]:
        subscription = QueueSubscription(self._queue_size)
        for channel in channels:
            self._subscribers[channel].add(subscription)
        try:
            yield subscription
        finally:
            for channel in channels:
                self._subscribers[channel].discard(subscription)
                if not self._subscribers[channel]:
                    del self._subscribers[channel]

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._subscribers.clear()

    async def ping(self) -> bool:
        return True
