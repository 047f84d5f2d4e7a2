"""The login rate limit: per client address, on every Oas login endpoint (super, manager, agent, user).

Only refused attempts count (wrong password, unknown account, an inactive account), so many agents behind
one address can all log in after a restart, while guessing account numbers or passwords is held to
`limit` tries per `window`; past that, every login from the address gets 429 with `Retry-After` until the
oldest counted failure leaves the window. Counted per replica, in memory, on the runtime's clock.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from agenthub.core.clock import Clock
from agenthub.protocols.oas.errors import OasError, TooManyLogins

MAX_ADDRESSES = 100_000  # beyond this many addresses with recent failures, the oldest are forgotten


class LoginThrottle:
    def __init__(self, *, clock: Clock, limit: int, window: timedelta) -> None:
        self._clock = clock
        self._limit = limit
        self._window = window
        self._failures: dict[str, deque[datetime]] = {}

    @asynccontextmanager
    async def attempt(self, address: str) -> AsyncIterator[None]:
        """Wraps one login: refused with TooManyLogins while the address is over the limit; a refusal of
        the login itself (OasError 401/403) counts as a failure."""
        self._check(address)
        try:
            yield
        except OasError as exc:
            if exc.status_code in (401, 403):
                self._failed(address)
            raise

    def _recent(self, address: str, now: datetime) -> deque[datetime] | None:
        failures = self._failures.get(address)
        if failures is None:
            return None
        while failures and failures[0] <= now - self._window:
            failures.popleft()
        if not failures:
            del self._failures[address]
            return None
        return failures

    def _check(self, address: str) -> None:
        now = self._clock.now()
        failures = self._recent(address, now)
        if failures is not None and len(failures) >= self._limit:
            wait = (failures[0] + self._window - now).total_seconds()
            raise TooManyLogins(max(1, math.ceil(wait)))

    def _failed(self, address: str) -> None:
        now = self._clock.now()
        failures = self._recent(address, now)
        if failures is None:
            if len(self._failures) >= MAX_ADDRESSES:
                del self._failures[next(iter(self._failures))]
            failures = self._failures[address] = deque()
        failures.append(now)
