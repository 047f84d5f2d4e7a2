"""Running real protocol servers in the test's event loop, on ephemeral ports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from agenthub.protocols.registry import available
from agenthub.server.runner import Listeners, running
from agenthub.server.runtime import Runtime


@asynccontextmanager
async def serving(runtime: Runtime, *names: str) -> AsyncIterator[Listeners]:
    specs = [available()[name] for name in names]
    async with running(runtime, specs, host="127.0.0.1", ports={name: 0 for name in names}) as listeners:
        yield listeners
