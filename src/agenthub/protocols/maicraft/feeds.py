"""Live pushes behind the WebSockets: game state at each subscriber's interval (one loop per endpoint,
building the payload once per tick), task changes to every other subscriber, token usage as it is
recorded, and log records as they are written."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agenthub.protocols.maicraft.envelope import now_ms
from agenthub.protocols.maicraft.errors import MaicraftError
from agenthub.protocols.maicraft.logring import LogEntry
from agenthub.protocols.maicraft.ws_common import Subscriber


@dataclass(slots=True)
class _Due:
    interval: float
    next_due: float


class GameFeed:
    """`/ws/game/<kind>`: pushes `<kind>_update` to each subscriber every update_interval ms."""

    def __init__(self, kind: str, build: Callable[[], Any]) -> None:
        self.kind = kind
        self._build = build
        self._subs: dict[Subscriber, _Due] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.ticks = 0

    def subscribe(self, sub: Subscriber, interval_ms: int) -> None:
        self._subs[sub] = _Due(interval_ms / 1000, time.monotonic())
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=f"maicraft-feed-{self.kind}")

    def unsubscribe(self, sub: Subscriber) -> None:
        self._subs.pop(sub, None)

    def message(self) -> dict[str, Any]:
        return {"type": f"{self.kind}_update", "timestamp": now_ms(), "data": self._build()}

    async def _run(self) -> None:
        while self._subs:
            now = time.monotonic()
            due = [sub for sub, d in self._subs.items() if d.next_due <= now]
            if due:
                self.ticks += 1
                try:
                    text = json.dumps(self.message(), ensure_ascii=False)
                except MaicraftError:
                    text = None  # the game is away: nothing to push (REST answers the error)
                for sub in due:
                    d = self._subs.get(sub)
                    if d is None:
                        continue
                    d.next_due = max(d.next_due + d.interval, now)
                    if text is not None:
                        sub.offer_text(text)
            if not self._subs:
                break
            wait = min(d.next_due for d in self._subs.values()) - time.monotonic()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(wait, 0.001))

    async def close(self) -> None:
        self._subs.clear()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


class Broadcast:
    """Subscribers of an event-driven feed (tasks, token usage), each with an optional filter value."""

    def __init__(self) -> None:
        self.subs: dict[Subscriber, Any] = {}

    def add(self, sub: Subscriber, value: Any = None) -> None:
        self.subs[sub] = value

    def remove(self, sub: Subscriber) -> None:
        self.subs.pop(sub, None)

    def send(self, message: dict[str, Any], *, exclude: Subscriber | None = None,
             accept: Callable[[Any], bool] | None = None) -> None:  # fmt: skip
        text = json.dumps(message, ensure_ascii=False)
        for sub, value in list(self.subs.items()):
            if sub is not exclude and (accept is None or accept(value)):
                sub.offer_text(text)


@dataclass(frozen=True, slots=True)
class LogFilter:
    levels: frozenset[str] | None
    modules: tuple[str, ...] | None

    def accepts(self, entry: LogEntry) -> bool:
        if self.levels is not None and entry.level not in self.levels:
            return False
        return self.modules is None or any(m.lower() in entry.module.lower() for m in self.modules)


class LogFeed:
    """`/ws/logs`: every new record of the ring to the subscribers whose levels/modules match."""

    def __init__(self) -> None:
        self.subs: dict[Subscriber, LogFilter] = {}

    def on_entry(self, entry: LogEntry) -> None:
        if not self.subs:
            return
        message = {
            "type": "log",
            "timestamp": entry.timestamp,
            "level": entry.level,
            "module": entry.module,
            "message": entry.message,
            "file": entry.file,
            "line": entry.line,
        }
        text = json.dumps(message, ensure_ascii=False)
        for sub, selected in list(self.subs.items()):
            if selected.accepts(entry):
                sub.offer_text(text)

    def level_changed(self, level: str, everyone: list[Subscriber]) -> None:
        text = json.dumps({"type": "level_changed", "new_level": level, "timestamp": now_ms()})
        for sub in everyone:
            sub.offer_text(text)
