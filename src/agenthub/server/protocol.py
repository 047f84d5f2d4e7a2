"""What a protocol package hands to the runner: its app, its port, its background loops, its start-up."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.types import ASGIApp

from agenthub.server.loops import Loop
from agenthub.server.runtime import Runtime
from agenthub.server.settings import Settings


async def _nothing(_runtime: Runtime) -> None:
    return None


@dataclass(frozen=True, slots=True)
class ProtocolSpec:
    name: str
    port: Callable[[Settings], int]
    create_app: Callable[[Runtime], ASGIApp]
    loops: Callable[[Runtime], list[Loop]] = field(default=lambda _runtime: [])
    on_start: Callable[[Runtime], Awaitable[None]] = _nothing
    on_stop: Callable[[Runtime], Awaitable[None]] = _nothing
