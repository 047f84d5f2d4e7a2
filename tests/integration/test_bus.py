"""The same bus contract on every backend: in-process and Redis (two buses = two replicas)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from agenthub.bus import Bus, MemoryBus, RedisBus
from tests.support.services import require_redis


@pytest.fixture(params=["memory", "redis"])
async def buses(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Bus, Bus]]:
    """A publisher and a subscriber: the same bus in memory, two processes' buses over Redis."""
    if request.param == "memory":
        bus = MemoryBus()
        yield bus, bus
        return
    url = require_redis()
    one, two = RedisBus(url, prefix="agenthub-test:"), RedisBus(url, prefix="agenthub-test:")
    await one.start()
    await two.start()
    try:
        yield one, two
    finally:
        await one.close()
        await two.close()


async def test_subscribers_receive_messages_of_their_channels_only(buses: tuple[Bus, Bus]) -> None:
    publisher, subscriber = buses
    async with subscriber.subscribe("jobs.a") as mine, subscriber.subscribe("jobs.b") as other:
        await publisher.publish("jobs.a", {"job_id": 1, "text": "任务"})
        assert await mine.get(timeout=3) == ("jobs.a", {"job_id": 1, "text": "任务"})
        assert await other.get(timeout=0.2) is None


async def test_every_subscriber_of_a_channel_gets_the_message(buses: tuple[Bus, Bus]) -> None:
    publisher, subscriber = buses
    async with subscriber.subscribe("c") as first, subscriber.subscribe("c", "d") as second:
        await publisher.publish("c", {"n": 1})
        await publisher.publish("d", {"n": 2})
        assert await first.get(timeout=3) == ("c", {"n": 1})
        assert [await second.get(timeout=3), await second.get(timeout=3)] == [
            ("c", {"n": 1}),
            ("d", {"n": 2}),
        ]


async def test_ping(buses: tuple[Bus, Bus]) -> None:
    assert await buses[0].ping() and await buses[1].ping()
