"""The operator console, as the runner sees it: one more listener (port 8000) beside the protocols.

It is not a wire protocol: it reads every protocol's nodes and jobs through the engine and the `ConsoleHooks`
of each protocol started on the same runtime, so it lives beside `protocols/`.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from agenthub.console.app import create_app
from agenthub.console.pulse_loops import loops
from agenthub.console.service import ConsoleService
from agenthub.console.sessions import Sessions
from agenthub.console.settings import ConsoleSettings
from agenthub.server.protocol import ProtocolSpec
from agenthub.server.runtime import Runtime


async def _build(runtime: Runtime, settings: ConsoleSettings) -> ConsoleService:
    sessions = Sessions(
        secret=runtime.jwt_secret + ":console-session",
        ttl=timedelta(minutes=settings.session_minutes),
        secure=settings.secure_cookie,
    )
    # The protocols started beside it on this runtime (the runner names them before building any).
    protocols = [spec for spec in runtime.states.running if spec.name != "console"]
    return ConsoleService(runtime, settings, protocols, sessions)


SPEC = ProtocolSpec(
    name="console",
    settings=ConsoleSettings,
    tables=(),
    migrations=Path(__file__).parent / "migrations",
    build=_build,
    create_app=create_app,
    loops=loops,
)
