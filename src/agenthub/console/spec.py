"""The operator console, as the runner sees it: one more listener (port 8000) beside the protocols.

It is not a wire protocol: it reads every protocol's nodes and jobs through the engine and each protocol's
`ConsoleHooks`, so it lives beside `protocols/` and is the one package that reads the registry's list.
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
    # The registry lists the console itself, so it is read here, when the runtime starts, not at import.
    from agenthub.protocols.registry import PROTOCOLS

    sessions = Sessions(
        secret=runtime.jwt_secret + ":console-session",
        ttl=timedelta(minutes=settings.session_minutes),
        secure=settings.secure_cookie,
    )
    return ConsoleService(runtime, settings, [s for s in PROTOCOLS if s.name != "console"], sessions)


SPEC = ProtocolSpec(
    name="console",
    settings=ConsoleSettings,
    tables=(),
    migrations=Path(__file__).parent / "migrations",
    build=_build,
    create_app=create_app,
    loops=loops,
)
