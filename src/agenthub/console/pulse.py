"""Throughput and queue depth per protocol, for the sparklines: jobs that reached a final status, counted
from the engine's announcements (every replica's, through the bus) in fixed buckets, and pending jobs
sampled on a timer. Kept in memory: a restarted console starts its lines afresh."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import datetime
from typing import Any

POINTS = 60
FINAL = frozenset({"success", "failed", "cancelled", "expired"})


class Pulse:
    def __init__(self, protocols: Iterable[str], *, points: int = POINTS) -> None:
        self._points = points
        self._done: dict[str, deque[int]] = {p: deque([0] * points, maxlen=points) for p in protocols}
        self._depth: dict[str, deque[int]] = {p: deque([0] * points, maxlen=points) for p in self._done}
        self._current: dict[str, int] = dict.fromkeys(self._done, 0)
        self.last_sample: datetime | None = None

    def job_event(self, protocol: str, status: str) -> None:
        """Counts a job that reached a final status (a failed attempt that will be retried does not)."""
        if status in FINAL and protocol in self._current:
            self._current[protocol] += 1

    def sample(self, depths: dict[str, int], *, now: datetime) -> None:
        """Closes the current throughput bucket and records the queue depths."""
        for protocol, done in self._done.items():
            done.append(self._current[protocol])
            self._current[protocol] = 0
            self._depth[protocol].append(depths.get(protocol, 0))
        self.last_sample = now

    def view(self) -> dict[str, Any]:
        return {
            "at": self.last_sample,
            "protocols": {
                p: {"throughput": list(self._done[p]), "queue": list(self._depth[p])} for p in self._done
            },
        }
