"""A slow Miao service cannot hold a reminder open: the timeout is a total deadline, not one per read
(issue "Hardening": 40 Miao connections stayed open long after their 10 s timeout)."""

from __future__ import annotations

import asyncio

from agenthub.core.clock import ManualClock
from agenthub.protocols.oas.notify import MiaoNotifier
from agenthub.protocols.oas.settings import OasSettings
from agenthub.protocols.oas.users_store import UsersStore
from agenthub.server.runtime import Runtime
from tests.integration.oas.miao import fake_miao


async def test_a_dripping_service_is_cut_off_at_the_deadline(runtime: Runtime, clock: ManualClock) -> None:
    settings = OasSettings(miao_timeout_seconds=0.5)  # type: ignore[call-arg]
    notifier = MiaoNotifier(settings=settings, users=UsersStore(runtime.db), clock=clock)
    async with fake_miao(drip=True) as miao:
        notifier.base_url = miao.url
        # A byte every 50 ms never trips a per-read timeout; only a total deadline ends this.
        sent = await asyncio.wait_for(notifier.send("tQ9xYz1", "hello"), timeout=30)
        assert miao.arrived.is_set()
    assert sent is False


async def test_many_dripping_reminders_all_end(runtime: Runtime, clock: ManualClock) -> None:
    settings = OasSettings(miao_timeout_seconds=0.5)  # type: ignore[call-arg]
    notifier = MiaoNotifier(settings=settings, users=UsersStore(runtime.db), clock=clock)
    async with fake_miao(drip=True) as miao:
        notifier.base_url = miao.url
        results = await asyncio.wait_for(
            asyncio.gather(*(notifier.send(f"code{i:04d}", "x") for i in range(40))), timeout=60
        )
    assert results == [False] * 40
