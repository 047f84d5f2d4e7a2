"""What a protocol package declares about itself, once: `ProtocolSpec`.

The runner builds the protocol's state from the spec (once per runtime), serves the app made from that
state on the protocol's port and runs its background loops; settings, the CLI, the schema and the migrations
read the same spec through `agenthub.protocols.registry`.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from starlette.types import ASGIApp

from agenthub.server.console_hooks import ConsoleHooks
from agenthub.server.loops import Loop
from agenthub.server.runtime import Runtime
from agenthub.server.settings import ProtocolSettings

SettingsT = TypeVar("SettingsT", bound=ProtocolSettings)
StateT = TypeVar("StateT")


@dataclass(frozen=True, slots=True)
class AgentCommand:
    """`agenthub agent <protocol>`: a simulated (or real) agent of the protocol, run from the CLI."""

    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _no_loops(_state: Any) -> list[Loop]:
    return []


async def _nothing(_state: Any) -> None:
    return None


@dataclass(frozen=True, slots=True)
class ProtocolSpec(Generic[SettingsT, StateT]):
    """A protocol, as the runner sees it.

    - `settings`: its settings class (env prefix `AGENTHUB_<NAME>_`), read through `Settings.protocol()`.
    - `tables`: the tables it owns (on the shared MetaData), for the schema and the migrations check.
    - `migrations`: its Alembic versions folder (its own branch off the engine's `0001_engine`).
    - `build`: makes the protocol's state once per runtime (services, kind policies, secrets);
      `close` ends it.
    - `create_app` and `loops`: the ASGI app on its port and its background loops, both from that state.
    - `agent`: the `agenthub agent <name>` command, if it ships one.
    - `console`: what the operator console shows of it (its node and job kinds, load, logs, pending
      reasons); None: the console shows its nodes and jobs with the engine's view only.
    """

    name: str
    settings: type[SettingsT]
    tables: Sequence[sa.Table]
    migrations: Path
    build: Callable[[Runtime, SettingsT], Awaitable[StateT]]
    create_app: Callable[[StateT], ASGIApp]
    loops: Callable[[StateT], list[Loop]] = field(default=_no_loops)
    close: Callable[[StateT], Awaitable[None]] = field(default=_nothing)
    agent: AgentCommand | None = None
    console: ConsoleHooks[StateT] | None = None

    def settings_of(self, runtime: Runtime) -> SettingsT:
        return runtime.settings.protocol(self.name, self.settings)

    def state_of(self, runtime: Runtime) -> StateT:
        """The state the runner built for this protocol on this runtime."""
        state: StateT = runtime.states.get(self.name)
        return state

    async def start(self, runtime: Runtime) -> StateT:
        state = await self.build(runtime, self.settings_of(runtime))
        runtime.states.put(self.name, state)
        return state

    async def stop(self, runtime: Runtime) -> None:
        state = runtime.states.pop(self.name)
        if state is not None:
            await self.close(state)
