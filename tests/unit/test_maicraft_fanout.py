"""A slow WebSocket subscriber never delays the others: pushes go through per-subscriber bounded queues."""

from __future__ import annotations

import asyncio
import json
from typing import Any, cast

from starlette.websockets import WebSocket

from agenthub.protocols.maicraft.feeds import Broadcast
from agenthub.protocols.maicraft.ws_common import Subscriber


class FakeSocket:
    def __init__(self, *, stuck: bool) -> None:
        self.stuck = stuck
        self.sent: list[str] = []
        self.got_one = asyncio.Event()

    async def send_text(self, text: str) -> None:
        if self.stuck:
            await asyncio.Event().wait()  # a client that never reads: its sends never finish
        self.sent.append(text)
        self.got_one.set()


def subscriber(ws: FakeSocket, size: int = 4) -> Subscriber:
    return Subscriber(cast(WebSocket, ws), size)


async def test_a_stuck_subscriber_does_not_hold_back_the_others() -> None:
    stuck, quick = FakeSocket(stuck=True), FakeSocket(stuck=False)
    subs = [subscriber(stuck), subscriber(quick)]
    senders = [asyncio.create_task(s.send_forever()) for s in subs]
    feed = Broadcast()
    for s in subs:
        feed.add(s)
    try:
        for n in range(100):  # returns at once every time, however far behind the stuck client is
            feed.send({"type": "tasks_update", "n": n})
            await asyncio.sleep(0)
        await asyncio.wait_for(quick.got_one.wait(), 1)
        async with asyncio.timeout(1):
            while json.loads(quick.sent[-1])["n"] != 99:
                quick.got_one.clear()
                await quick.got_one.wait()
        assert subs[0].queue.qsize() <= 4 and subs[0].dropped >= 95
        newest: Any = json.loads(subs[0].queue.get_nowait())
        assert newest["n"] == 96  # the stuck client keeps only the newest pushes
    finally:
        for task in senders:
            task.cancel()
        await asyncio.gather(*senders, return_exceptions=True)
