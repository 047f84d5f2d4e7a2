"""The bus across replicas: every publish goes through Redis; one reader per process receives them all
(one pattern subscription) and fans them out to local subscribers through a MemoryBus."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis

from agenthub.bus.memory import MemoryBus, QueueSubscription

log = logging.getLogger(__name__)


class RedisBus:
    def __init__(self, url: str, *, prefix: str = "agenthub:") -> None:
        self._redis: Redis = Redis.from_url(url)
        self._prefix = prefix
        self._local = MemoryBus()
        self._reader: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self, *, ready_within: float = 2.0) -> None:
        """Starts the reader. A Redis that is down does not stop the server: /health says so, and the
        reader keeps reconnecting."""
        if self._reader is None:
            self._reader = asyncio.create_task(self._read_forever(), name="redis-bus-reader")
            try:
                await asyncio.wait_for(self._ready.wait(), timeout=ready_within)
            except TimeoutError:
                log.warning("redis bus not subscribed yet; live events across replicas wait for it")

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        await self._redis.publish(self._prefix + channel, json.dumps(message, default=str))

    @asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[QueueSubscription]:
        async with self._local.subscribe(*channels) as subscription:
            yield subscription

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        await self._redis.aclose()

    async def ping(self) -> bool:
        try:
            return bool(await asyncio.wait_for(self._redis.ping(), timeout=3))
        except Exception:
            return False

    async def _read_forever(self) -> None:
        while True:
            try:
                await self._read()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("redis bus reader: %s; reconnecting in 1s", exc)
                await asyncio.sleep(1)

    async def _read(self) -> None:
        pubsub = self._redis.pubsub()
        await pubsub.psubscribe(self._prefix + "*")
        self._ready.set()
        try:
            async for item in pubsub.listen():
                if item.get("type") != "pmessage":
                    continue
                channel = item["channel"].decode()[len(self._prefix) :]
                self._local.deliver(channel, json.loads(item["data"]))
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
