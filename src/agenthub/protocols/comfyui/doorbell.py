"""The push loop's doorbell: rung when there is something to push, so a new task goes out at once instead of
at the loop's next interval."""

from __future__ import annotations

import asyncio
import contextlib


class Doorbell:
    """Wakes the push loop at once when there is something to push (a task was created, a push ended)."""

    def __init__(self) -> None:
        self._rung = asyncio.Event()

    def ring(self) -> None:
        self._rung.set()

    def answer(self) -> None:
        self._rung.clear()

    @property
    def rung(self) -> bool:
        return self._rung.is_set()

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._rung.wait()
