"""Supervised background loops: each runs its step every interval, survives its own errors, and stops
when the runner stops."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Loop:
    name: str
    interval: float
    step: Callable[[], Awaitable[object]]

    async def run_forever(self) -> None:
        while True:
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background loop %s failed; it will run again", self.name)
            await asyncio.sleep(self.interval)


class LoopGroup:
    """Starts loops as tasks and stops them together."""

    def __init__(self, loops: list[Loop]) -> None:
        self._loops = loops
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> LoopGroup:
        self._tasks = [asyncio.create_task(loop.run_forever(), name=loop.name) for loop in self._loops]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
