"""The same bus contract on every backend: in-process and Redis (two buses = two replicas)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from agenthub.bus import Bus, MemoryBus, RedisBus
from agenthub.server.startup import open_runtime
from tests.conftest import make_settings
from tests.support.databases import PostgresTemplate
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


async def test_deployments_of_two_databases_on_one_redis_do_not_hear_each_other(
    postgres_template: PostgresTemplate,
) -> None:
    """Replicas of one database share their events; another database's deployment on the same Redis
    (staging beside production, two test runs at once) hears none of them."""
    redis_url = require_redis()
    (url_a, name_a), (url_b, name_b) = await postgres_template.fresh(), await postgres_template.fresh()
    try:
        async with (
            open_runtime(make_settings(url_a, redis_url=redis_url)) as a1,
            open_runtime(make_settings(url_a, redis_url=redis_url)) as a2,
            open_runtime(make_settings(url_b, redis_url=redis_url)) as b,
            a2.bus.subscribe("jobs.test") as same_database,
            b.bus.subscribe("jobs.test") as other_database,
        ):
            await a1.bus.publish("jobs.test", {"n": 1})
            assert await same_database.get(timeout=5) == ("jobs.test", {"n": 1})
            await b.bus.publish("jobs.test", {"n": 2})  # its own event arrives; a1's never did
            assert await other_database.get(timeout=5) == ("jobs.test", {"n": 2})
    finally:
        await postgres_template.drop(name_a)
        await postgres_template.drop(name_b)
